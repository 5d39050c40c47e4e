"""Crews on the server: stored in SQL, run by CrewAI against the gateway's own models.

Importing this package keeps CrewAI on the machine. Before any module here imports
``crewai`` (every one that does lives in this package, so this runs first), it sets:

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


keep_crewai_offline()
