"""A websocket client that stops reading: bounded buffers, a typed close, the turn still
runs to its end (with a socket whose writes block, and a router that streams a long turn)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from agents.events import ConversationStarted, Delta, Event, MessageEnd
from channels.ws_chat import SLOW_READER_CLOSE, WsChatSession

CONV = "conv_1"
FRAMES = ['{"type": "resume", "conversation_id": "conv_1"}', '{"type": "message", "content": "hi"}']


def session_on(ws: StalledSocket, router: LongTurnRouter, buffer: int) -> WsChatSession:
    return WsChatSession(
        cast(Any, ws), cast(Any, router), "ws", 1000, send_buffer_frames=buffer,
        slow_reader_timeout_s=0.2,
    )  # fmt: skip


class StalledSocket:
    """A websocket whose client reads ``reads`` frames, then stops reading."""

    def __init__(self, frames: list[str], reads: int) -> None:
        self.incoming: asyncio.Queue[str] = asyncio.Queue()
        for frame in frames:
            self.incoming.put_nowait(frame)
        self.reads = reads
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def accept(self) -> None:
        pass

    async def receive_text(self) -> str:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        if len(self.sent) >= self.reads:
            await asyncio.Event().wait()  # the client's buffers are full: never returns
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)


class LongTurnRouter:
    """Streams a turn of ``batches`` batches; notes how far it got and any stop."""

    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.streamed = 0
        self.finished = False
        self.stopped: list[str] = []

    async def resume(self, workspace_id: str, conversation_id: str) -> ConversationStarted:
        return ConversationStarted(conversation_id=conversation_id, app_id="app_1")

    async def send_batches(self, *args: Any) -> AsyncIterator[list[Event]]:
        for i in range(self.batches):
            self.streamed += 1
            yield [Delta(conversation_id=CONV, message_id="m", content=f"{i} ")]
        self.finished = True  # the shard stored the answer before its message_end
        yield [MessageEnd(conversation_id=CONV, message_id="m", status="complete")]

    async def stop(self, conversation_id: str) -> bool:
        self.stopped.append(conversation_id)
        return True


async def test_a_reader_that_stops_is_disconnected_and_its_turn_completes() -> None:
    ws = StalledSocket(FRAMES, reads=5)
    router = LongTurnRouter(batches=2000)
    session = session_on(ws, router, buffer=8)
    await asyncio.wait_for(session.serve(), timeout=10)
    assert ws.closed == (SLOW_READER_CLOSE, "slow_reader")
    assert len(ws.sent) == 5 and session._outbox.qsize() <= 8  # bounded, never grown
    assert router.finished and router.streamed == 2000  # the turn ran to its end
    assert router.stopped == []  # not stopped: stored complete


async def test_a_reader_that_keeps_up_is_never_disconnected() -> None:
    ws = StalledSocket(FRAMES, reads=10_000)
    router = LongTurnRouter(batches=500)
    session = session_on(ws, router, buffer=4)
    serving = asyncio.create_task(session.serve())
    while not ws.sent or '"message_end"' not in ws.sent[-1]:
        await asyncio.sleep(0.01)
    assert ws.closed is None and len(ws.sent) == 502
    serving.cancel()
