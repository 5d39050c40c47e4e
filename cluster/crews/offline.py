"""Keeping CrewAI on the machine: its telemetry, tracing and first-run prompts off.

:func:`keep_crewai_offline` must run before ``crewai`` is imported: the composition
root (``cluster/runtime.py``) calls it when a process builds its services, and again
right before it imports the crew runner (every module that imports ``crewai`` lives
in this package, and none sets anything when imported). It sets:

- ``CREWAI_DISABLE_TELEMETRY``, ``CREWAI_DISABLE_TRACKING``: CrewAI's anonymous usage
  telemetry (OpenTelemetry spans to CrewAI's collector) is never started — CrewAI
  checks either one, as it checks ``OTEL_SDK_DISABLED``. ``OTEL_SDK_DISABLED`` itself
  is deliberately NOT set: these processes are Ray workers (the gateway replica, the
  session shards) whose metrics Ray records with the OpenTelemetry SDK, and the flag
  switched every ``chorus_*`` metric off (caught by the metrics e2e tests). A deployer
  who runs crews elsewhere may set it there;
- ``CREWAI_TRACING_ENABLED=false``: no execution traces are uploaded;
- ``CREWAI_TESTING=true``: in CrewAI 1.15 this is the one switch that turns off the
  first-run "collect traces?" handling: without it, the first run on a machine
  buffers trace events and, on a terminal, asks for 20 s whether to upload them
  (it also stops CrewAI writing ``.crewai/last_run.json`` into the working folder);
- ``CREWAI_DISABLE_VERSION_CHECK=true``: no PyPI look-up for a newer CrewAI.

They are set, not defaulted, so that an inherited environment or a ``.env`` file
(which CrewAI loads at import, without overriding) cannot turn them back on.

CrewAI still keeps a little state on local disk (the last kickoff's task outputs,
for its replay command, and a key file); ``CREWAI_STORAGE_DIR`` defaults to
``chorus-crewai`` so that lands in ``~/.local/share/chorus-crewai`` rather than in a
folder named after the server's working directory.
"""

from __future__ import annotations

import os

OFFLINE_ENV: dict[str, str] = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_TESTING": "true",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
}


def keep_crewai_offline() -> None:
    """Set :data:`OFFLINE_ENV` in this process (idempotent)."""
    os.environ.update(OFFLINE_ENV)
    os.environ.setdefault("CREWAI_STORAGE_DIR", "chorus-crewai")


def crewai_offline() -> bool:
    """True when this process has :data:`OFFLINE_ENV` set."""
    return all(os.environ.get(key) == value for key, value in OFFLINE_ENV.items())
