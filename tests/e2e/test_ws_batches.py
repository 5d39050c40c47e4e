"""Batch frames: a client that asks for them reads the same turn in fewer frames."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.e2e import auth
from tests.e2e.wsclient import recv, send, start, turn

pytestmark = pytest.mark.e2e


async def _batched_turn(ws: ClientConnection, text: str) -> tuple[list[dict[str, Any]], int]:
    """The turn's events (unpacked from batch frames) and how many frames carried them."""
    await send(ws, type="message", content=text)
    events: list[dict[str, Any]] = []
    frames = 0
    while not events or events[-1]["type"] != "message_end":
        frame = await recv(ws)
        frames += 1
        if frame["type"] == "batch":
            assert len(frame["events"]) > 1  # a single event travels as itself
            events += frame["events"]
        else:
            events.append(frame)
    return events, frames


def _shape(events: list[dict[str, Any]]) -> list[str]:
    """The event types, with each run of deltas as one."""
    shape: list[str] = []
    for event in events:
        if not (event["type"] == "delta" and shape and shape[-1] == "delta"):
            shape.append(event["type"])
    return shape


async def test_batched_and_unbatched_sockets_get_the_same_turn(
    ws_url: str, create_app: Any
) -> None:
    app_id = create_app(model={"max_tokens": 40, "temperature": 0})
    async with auth.connect(ws_url) as plain, auth.connect(ws_url) as batched:
        await start(plain, app_id)
        await start(batched, app_id, batch=True)
        one_by_one = await turn(plain, "Name three colours.")
        together, frames = await _batched_turn(batched, "Name three colours.")
    assert _shape(together) == _shape(one_by_one)
    text = "".join(e["content"] for e in together if e["type"] == "delta")
    assert text == "".join(e["content"] for e in one_by_one if e["type"] == "delta") != ""
    assert together[-1]["status"] == "complete"
    assert frames <= len(together)
    json.dumps(together)  # plain JSON all the way down
