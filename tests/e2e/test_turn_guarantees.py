"""What a turn guarantees under load, on the scripted engine (cheap turns, so the test
is of the server's streaming path, not of a model): the next message after
``message_end`` is always accepted, and many concurrent conversations lose nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e import auth
from tests.e2e.wsclient import recv, send, start, turn

pytestmark = pytest.mark.e2e


def scripted_app(create_app: Any) -> str:
    return str(create_app(model={"model": "scripted", "max_tokens": 16}))


async def test_the_message_after_message_end_is_always_accepted(
    ws_url: str,
    create_app: Any,
) -> None:
    """1,000 messages, each sent the instant the previous ``message_end`` arrives (over
    four sockets at once, so the gateway and shards are busy); none is refused."""
    app_id = scripted_app(create_app)

    async def back_to_back(turns: int) -> list[dict[str, Any]]:
        async with auth.connect(ws_url) as ws:
            await start(ws, app_id)
            ends = []
            await send(ws, type="message", content="turn 0")
            while len(ends) < turns:
                event = await recv(ws, timeout=60)
                assert event["type"] != "error", event
                if event["type"] == "message_end":
                    ends.append(event)
                    if len(ends) < turns:  # at once, before anything else
                        await send(ws, type="message", content=f"turn {len(ends)}")
            return ends

    ends = await asyncio.gather(*(back_to_back(250) for _ in range(4)))
    assert sum(len(e) for e in ends) == 1000
    assert all(e["status"] == "complete" for each in ends for e in each)


async def test_five_hundred_concurrent_conversations_lose_nothing(
    ws_url: str, server: str, create_app: Any
) -> None:
    app_id = scripted_app(create_app)

    async def converse(i: int) -> str:
        async with auth.connect(ws_url, open_timeout=120, ping_timeout=None) as ws:
            conv = (await start(ws, app_id))["conversation_id"]
            for t in range(3):
                events = await turn(ws, f"client {i} turn {t}", timeout=120)
                assert events[-1]["type"] == "message_end", events[-1]
                assert events[-1]["status"] == "complete", events[-1]
                assert "".join(e["content"] for e in events if e["type"] == "delta") != ""
            return str(conv)

    conversations = await asyncio.gather(*(converse(i) for i in range(500)))
    assert len(set(conversations)) == 500
    async with auth.async_client(base_url=server, timeout=60) as client:
        for i, conv in enumerate(conversations):
            stored = (await client.get(f"/api/conversations/{conv}/messages")).json()["data"]
            assert [m["content"] for m in stored if m["role"] == "user"] == [
                f"client {i} turn {t}" for t in range(3)
            ]
            assert [(m["role"], m["status"]) for m in stored] == [
                ("user", "complete"),
                ("assistant", "complete"),
            ] * 3
