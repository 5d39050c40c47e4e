"""An engine process that dies: 503 with a retry hint, then the replica restarts it."""

from __future__ import annotations

import time

import openai
import psutil
import pytest

from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MODEL = "smollm2-135m-instruct"


def _engine_server(server: str) -> psutil.Process:
    """The llama-server process of the server under test: it inherited the server's
    CHORUS_PORT (other servers, e.g. an integration test's, did not)."""
    port = server.rsplit(":", 1)[1]
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if cmd and cmd[0].endswith("/llama-server") and MODEL in cmd:
            try:
                if proc.environ().get("CHORUS_PORT") == port:
                    return proc
            except psutil.Error:
                continue
    raise AssertionError("no llama-server process of the server under test")


def test_dead_engine_is_503_then_restarted(server: str, openai_client) -> None:  # type: ignore[no-untyped-def]
    victim = _engine_server(server)
    victim.kill()
    victim.wait(10)
    resp = auth.post(
        server + "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
        timeout=30,
    )
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["error"]["code"] == "engine_unavailable"
    assert "Traceback" not in resp.text

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if auth.get(server + "/healthz").status_code == 200:
            break
        time.sleep(0.5)
    assert _engine_server(server).pid != victim.pid
    out = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=3
    )
    assert out.choices[0].message.content is not None
    with pytest.raises(openai.NotFoundError):  # the gateway itself was never disturbed
        openai_client.chat.completions.create(
            model="ghost", messages=[{"role": "user", "content": "x"}]
        )
