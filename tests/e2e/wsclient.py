"""A small websocket chat client for the e2e tests (the real `websockets` library)."""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import ClientConnection


async def recv(ws: ClientConnection, timeout: float = 120) -> dict[str, Any]:
    import asyncio

    return json.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def send(ws: ClientConnection, **frame: Any) -> None:
    await ws.send(json.dumps(frame))


async def start(ws: ClientConnection, app_id: str, **kw: Any) -> dict[str, Any]:
    await send(ws, type="start", app_id=app_id, **kw)
    event = await recv(ws)
    assert event["type"] == "conversation_started", event
    return event


async def turn(
    ws: ClientConnection, text: str, *, timeout: float = 120, **kw: Any
) -> list[dict[str, Any]]:
    """Send a message; collect events up to and including message_end (or a lone error)."""
    await send(ws, type="message", content=text, **kw)
    events = []
    while True:
        event = await recv(ws, timeout)
        events.append(event)
        if event["type"] == "message_end":
            return events
        if event["type"] == "error" and (
            len(events) == 1 or event["code"] == "session_interrupted"
        ):
            return events


def answer(events: list[dict[str, Any]]) -> str:
    return "".join(e["content"] for e in events if e["type"] == "delta")
