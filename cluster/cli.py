"""The ``chorus`` command.

``chorus serve`` deploys ``ray_config.yaml`` (a standard Ray Serve config) the
way ``serve run`` does, on a local Ray kept on loopback (or the cluster in
``RAY_ADDRESS``), waits until the application is running, prints where it
listens, and shuts Serve and Ray down cleanly on Ctrl-C or SIGTERM.

``chorus kb ...`` manages knowledge bases on a running server (see ``cluster/kb_cli.py``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cluster.account_cli import add_account_parsers
from cluster.account_cli import run as account_run
from cluster.accounts import INITIAL_LOGIN_FILE
from cluster.admin_cli import add_admin_parser
from cluster.admin_cli import run as admin_run
from cluster.kb_cli import add_kb_parser
from cluster.kb_cli import run as kb_run

if TYPE_CHECKING:
    from ray.serve.schema import ServeDeploySchema

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "ray_config.yaml"
_FALLBACK_CONFIG: dict[str, Any] = {
    "proxy_location": "HeadOnly",
    "http_options": {"host": "127.0.0.1", "port": 8000, "request_timeout_s": 900},
    "applications": [
        {"name": "chorus", "route_prefix": "/", "import_path": "channels.gateway:build_app"}
    ],
}


def _load_config(path: str | None, host: str, port: int) -> ServeDeploySchema:
    """The Serve config in ``path`` (default: ray_config.yaml), listening on host:port.
    Imports Ray: call it after :func:`cluster.ray_runtime.apply_loopback_env`."""
    from ray.serve.schema import ServeDeploySchema

    if path:
        raw = dict(yaml.safe_load(Path(path).read_text()))
    elif DEFAULT_CONFIG.is_file():
        raw = dict(yaml.safe_load(DEFAULT_CONFIG.read_text()))
    else:
        raw = dict(_FALLBACK_CONFIG)
    raw.setdefault("http_options", {})
    raw["http_options"].update({"host": host, "port": port})
    return ServeDeploySchema.model_validate(raw)


def serve_command(args: argparse.Namespace) -> int:
    if args.host:
        os.environ["CHORUS_HOST"] = args.host
    if args.port:
        os.environ["CHORUS_PORT"] = str(args.port)

    from cluster.log_config import configure_logging
    from cluster.settings import ChorusSettings

    settings = ChorusSettings()  # validates env/YAML before anything starts
    configure_logging(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    from cluster.ray_runtime import apply_loopback_env, init_local

    apply_loopback_env()  # before Ray is imported

    from ray import serve
    from ray.serve._private import api as serve_api
    from ray.serve._private.constants import SERVE_NAMESPACE

    config = _load_config(args.config, settings.host, settings.port)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    init_local(SERVE_NAMESPACE)
    import ray

    # Where this Ray lives, for `ray job submit`, operators and fault tests.
    (settings.data_dir / "ray_address").write_text(ray.get_runtime_context().gcs_address)
    try:
        client = serve_api.serve_start(
            http_options=config.http_options.model_dump(),
            proxy_location=config.proxy_location,
        )
        client.deploy_apps(config, _blocking=False)
        names = [app.name for app in config.applications]
        if not _wait_running(names, stop, args.timeout):
            return 1
        url = f"http://{settings.host}:{settings.port}"
        print(f"Chorus is listening on {url}  (OpenAI API: {url}/v1, health: {url}/healthz)")
        login_file = settings.data_dir / INITIAL_LOGIN_FILE
        if login_file.exists():
            print(
                f"Log in as {settings.admin_email}: the first password is in {login_file} "
                "(readable by you only); POST /api/auth/login, then create keys at /api/keys."
            )
        print("Press Ctrl-C to stop.", flush=True)
        stop.wait()
        print("Stopping Chorus...", flush=True)
        return 0
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()


def _wait_running(names: list[str], stop: threading.Event, timeout: float) -> bool:
    from ray import serve

    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        apps = serve.status().applications
        states = {n: apps[n].status if n in apps else "NOT_STARTED" for n in names}
        failed = {n: apps[n].message for n, s in states.items() if s == "DEPLOY_FAILED"}
        if failed:
            for name, message in failed.items():
                print(f"Application '{name}' failed to deploy:\n{message}", file=sys.stderr)
            return False
        if all(s == "RUNNING" for s in states.values()):
            return True
        stop.wait(1.0)
    if not stop.is_set():
        print(f"Chorus did not become ready within {timeout:.0f}s", file=sys.stderr)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chorus", description="Chorus LLMOps server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="start the server (Ray Serve) on embedded defaults")
    serve_p.add_argument("--config", help="Ray Serve config file (default: ray_config.yaml)")
    serve_p.add_argument("--host", help="bind address (default 127.0.0.1, or CHORUS_HOST)")
    serve_p.add_argument("--port", type=int, help="HTTP port (default 8000, or CHORUS_PORT)")
    serve_p.add_argument(
        "--timeout", type=float, default=900, help="seconds to wait for the app to be ready"
    )
    add_kb_parser(sub)
    add_admin_parser(sub)
    add_account_parsers(sub)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve_command(args)
    if args.command == "kb":
        return kb_run(args)
    if args.command == "admin":
        return admin_run(args)
    if args.command in ("login", "logout", "keys"):
        return account_run(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
