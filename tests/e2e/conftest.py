"""The whole server, started the way the README does (``chorus serve``), once per session."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e import auth

STARTUP_TIMEOUT_S = 300
#: Scripted engines the server runs besides its default model (load, race and fault
#: tests: turns that cost almost nothing to produce). ``scripted`` answers one short
#: sentence at once; ``scripted-slow`` streams 40 words, one every 50 ms.
SCRIPTED_ENGINES = [
    {"name": "scripted", "kind": "scripted", "scripted_reply": "Noted, thank you."},
    {
        "name": "scripted-slow",
        "kind": "scripted",
        "scripted_reply": " ".join(f"word{i}" for i in range(40)),
        "scripted_token_delay_s": 0.05,
    },
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chorus-data")


_OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Zoo API", "version": "1"},
    "servers": [{"url": "/"}],
    "paths": {
        "/api/weather": {
            "get": {
                "operationId": "zoo_weather",
                "summary": "Temperatures at the zoo",
                "parameters": [{"name": "city", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/api/echo": {
            "post": {
                "operationId": "zoo_echo",
                "summary": "Echo a JSON body",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}


class _Site(BaseHTTPRequestHandler):
    """A small website of the tests' own, reached only through the outbound allowlist."""

    pages = {
        "/": "<html><head><title>Zorblax Zoo</title></head><body><article><p>Welcome to "
        "Zorblax Zoo, home of the giant pandas.</p><a href='/hours'>Hours</a> "
        "<a href='/missing'>Old page</a></article></body></html>",
        "/hours": "<html><head><title>Opening hours</title></head><body><article><p>Zorblax "
        "Zoo opens at nine in the morning and closes at six in the evening, every day except "
        "Mondays.</p></article></body></html>",
    }

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        """/api/echo: the JSON body and the Authorization header back (workflow tests)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self._json(200, {"body": body, "auth": self.headers.get("Authorization")})

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/openapi.json":
            self._json(200, _OPENAPI)
            return
        if self.path.startswith("/api/weather"):
            self._json(200, {"city": "Zorblax", "temps": [3, 5, 10]})
            return
        if self.path.startswith("/api/broken"):
            self._json(500, {"error": "broken on purpose"})
            return
        body = self.pages.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        data = (body or "<html><body>not found</body></html>").encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def local_site() -> Iterator[str]:
    site = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()


@pytest.fixture(scope="session")
def server(server_data_dir: Path, local_site: str) -> Iterator[str]:
    port = _free_port()
    data_dir = server_data_dir
    log_path = data_dir / "server.log"
    env = {
        **os.environ,
        "CHORUS_DATA_DIR": str(data_dir),
        "CHORUS_PORT": str(port),
        "CHORUS_MAX_MESSAGE_CHARS": "2000",
        "CHORUS_MAX_UPLOAD_BYTES": str(2 * 1024 * 1024),
        "CHORUS_OUTBOUND_ALLOW_HOSTS": json.dumps([local_site.removeprefix("http://")]),
        "CHORUS_ENGINES": json.dumps([{"name": "smollm2-135m-instruct"}, *SCRIPTED_ENGINES]),
        "CHORUS_ADMIN_PASSWORD": auth.ADMIN_PASSWORD,
        "CHORUS_ACCESS_TOKEN_MINUTES": "600",  # the operator's token lasts the session
        # loopback is a proxy: a test names its caller's address (X-Forwarded-For), so one
        # test's failed logins never lock the others out
        "CHORUS_TRUSTED_PROXIES": json.dumps(["127.0.0.1"]),
    }
    chorus = Path(sys.executable).parent / "chorus"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(chorus), "serve"], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"chorus serve exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}"
                )
            if "Chorus is listening" in log_path.read_text():
                break
            time.sleep(0.5)
        else:
            pytest.fail(
                f"chorus serve not ready in {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()[-4000:]}"
            )
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200
        auth.provision(base)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def ws_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/ws/chat"


@pytest.fixture(scope="session")
def create_app(server: str):  # type: ignore[no-untyped-def]
    """Create and publish an app from spec fields; returns its id."""

    def create(**spec: object) -> str:
        body = {"name": "e2e", "model": {"max_tokens": 24, "temperature": 0}, **spec}
        resp = auth.post(server + "/api/apps", json=body, timeout=30)
        assert resp.status_code == 201, resp.text
        app_id = resp.json()["id"]
        assert auth.post(server + f"/api/apps/{app_id}/publish", timeout=30).status_code == 200
        return str(app_id)

    return create


@pytest.fixture(scope="session")
def openai_client(server: str):  # type: ignore[no-untyped-def]
    from openai import OpenAI

    return OpenAI(base_url=server + "/v1", api_key=auth.KEY, max_retries=0, timeout=120)


@pytest.fixture(scope="package")
def server_cluster(server: str, server_data_dir: Path) -> Iterator[None]:
    """This process joins the server's own Ray cluster as a driver (to find, call and
    kill its actors), once for the e2e tests that need it; it leaves after the last
    e2e test, before any other suite could start a Ray of its own."""
    import ray

    from cluster.sessions.session_shard import NAMESPACE

    address = (server_data_dir / "ray_address").read_text().strip()
    ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
    yield
    ray.shutdown()
