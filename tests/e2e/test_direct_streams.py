"""Direct streams (the byte relay) on `chorus serve` with llama-server: the gateway and
the shards read the model server's stream themselves, and the engine replica keeps
every such request admitted until its reader is done, however it ends."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e import auth
from tests.e2e.wsclient import start, turn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MODEL = "smollm2-135m-instruct"
ADMITTED = f'chorus_engine_requests_admitted{{model="{MODEL}"}}'


def _sample(server: str, name: str) -> int:
    lines = auth.get(server + "/metrics", timeout=10, headers=auth.operator()).text.splitlines()
    values = [line.split()[-1] for line in lines if line.startswith(name + " ")]
    assert len(values) == 1, f"{name} is not in /metrics exactly once"
    return int(float(values[0]))


def _admitted(server: str) -> int:
    return _sample(server, ADMITTED)


def _streams(server: str) -> tuple[int, int]:
    """(direct, relayed) streams of the model so far."""
    return tuple(  # type: ignore[return-value]
        _sample(server, f'chorus_engine_streams_total{{path="{path}",model="{MODEL}"}}')
        for path in ("direct", "relayed")
    )


def _settles_to_zero(server: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (admitted := _admitted(server)) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert admitted == 0, f"{admitted} requests still admitted after their readers finished"


def _body(content: str, max_tokens: int) -> dict[str, object]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": content}],
        "max_tokens": max_tokens,
        "temperature": 0.7,
        "stream": True,
    }


def test_an_open_stream_is_admitted_and_every_ending_releases_it(server: str) -> None:
    _settles_to_zero(server)
    direct, relayed = _streams(server)
    with (
        auth.client(timeout=60) as client,
        client.stream(
            "POST", server + "/v1/chat/completions", json=_body("Tell a long story.", 200)
        ) as resp,
    ):
        assert resp.status_code == 200
        lines = resp.iter_lines()
        assert any(line.startswith("data:") for line in lines)
        assert _admitted(server) == 1  # counted while its reader streams from the server
        # the client leaves mid-stream
    _settles_to_zero(server)

    with auth.client(timeout=60) as client:  # streams that run to their end
        for _ in range(3):
            text = client.post(server + "/v1/chat/completions", json=_body("Hi", 8)).text
            assert text.rstrip().endswith("data: [DONE]")
    _settles_to_zero(server)

    refused = auth.post(  # refused by llama-server itself, after the replica admitted it
        server + "/v1/chat/completions", json=_body("lorem " * 3000, 4), timeout=60
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "context_length_exceeded"
    _settles_to_zero(server)
    assert _streams(server) == (direct + 5, relayed)  # no token crossed the replica


async def test_chat_turns_on_the_model_release_their_admission(
    server: str, ws_url: str, create_app
) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(model={"max_tokens": 12, "temperature": 0.7})
    direct, relayed = await asyncio.to_thread(_streams, server)

    async def conversation(i: int) -> list[str]:
        async with auth.connect(ws_url) as ws:
            await start(ws, app_id)
            kinds = []
            for n in range(2):
                events = await turn(ws, f"Say something about the number {i * 10 + n}.")
                kinds.append(events[-1]["type"])
                assert any(e["type"] == "delta" for e in events), events
            return kinds

    results = await asyncio.gather(*(conversation(i) for i in range(4)))
    assert all(kinds == ["message_end", "message_end"] for kinds in results)
    await asyncio.to_thread(_settles_to_zero, server)
    now_direct, now_relayed = await asyncio.to_thread(_streams, server)
    assert now_relayed == relayed and now_direct >= direct + 8  # follow-ups may add more
