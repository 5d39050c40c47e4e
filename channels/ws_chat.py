"""The websocket chat protocol (``WS /ws/chat``): JSON frames in, typed events out.

Client frames (``type``): ``start`` (new conversation on an app), ``resume``,
``message``, ``stop``, ``ping``. Server frames are the events of
:mod:`agents.events` plus ``pong``. Every refusal is an ``error``
event with a stable ``code``; the socket and the conversation stay usable.
See docs/protocol.md.

Backpressure: frames wait for the client in one bounded buffer per socket, written by
one task; a turn that finds it full waits (and so does its shard, which streams at most
``stream_ahead_batches`` ahead). A buffer that stays full for
``ws_slow_reader_timeout_s`` closes the socket with :data:`SLOW_READER_CLOSE`; the
socket's turns then run to their end, unread, and are stored as they complete.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

import structlog
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from agents import error_codes
from agents.apps.spec import AppSpec
from agents.errors import ChorusError
from agents.events import ErrorEvent, Event, UsageEvent
from agents.ids import new_id
from cluster.limits import Lease
from cluster.sessions.session_router import SessionRouter

log = structlog.get_logger(__name__)
#: The close code of a client that stayed behind reading (reason: ``slow_reader``).
SLOW_READER_CLOSE = 4008


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartFrame(_Frame):
    type: Literal["start"]
    app_id: str = Field(min_length=1, description="The app to talk to (its published version).")
    inputs: dict[str, str] = Field(default_factory=dict, description="System prompt variables.")
    draft: AppSpec | None = Field(
        default=None, description="Debug chat: run this unsaved spec instead of the published."
    )
    user_id: str | None = Field(default=None, description="End-user id, for the owner's logs.")
    batch: bool | None = Field(
        default=None,
        description="Send turns' events in `batch` frames (several events in one frame, in "
        "order) from now on on this socket; false: one event per frame (the default).",
    )


class ResumeFrame(_Frame):
    type: Literal["resume"]
    conversation_id: str = Field(min_length=1)
    batch: bool | None = Field(
        default=None,
        description="Send turns' events in `batch` frames (several events in one frame, in "
        "order) from now on on this socket; false: one event per frame (the default).",
    )


class MessageFrame(_Frame):
    type: Literal["message"]
    content: str = Field(min_length=1, description="The user's message.")
    conversation_id: str | None = Field(
        default=None, description="Default: the conversation started or resumed on this socket."
    )


class StopFrame(_Frame):
    type: Literal["stop"]
    conversation_id: str | None = None


class PingFrame(_Frame):
    type: Literal["ping"]


class EventBatchFrame(BaseModel):
    """Server frame: several events of a turn, in order (sockets that asked for batches)."""

    type: Literal["batch"] = "batch"
    events: list[Event] = Field(description="The events, oldest first.")


ClientFrame = Annotated[
    StartFrame | ResumeFrame | MessageFrame | StopFrame | PingFrame, Field(discriminator="type")
]
FRAME_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
KNOWN_FRAMES = {"start", "resume", "message", "stop", "ping"}


class WsChatSession:
    """One websocket connection. Turns stream in background tasks so ``stop`` and
    ``ping`` are read while an answer streams."""

    def __init__(
        self,
        ws: WebSocket,
        router: SessionRouter,
        workspace_id: str,
        max_message_chars: int,
        *,
        send_buffer_frames: int = 256,
        slow_reader_timeout_s: float = 15.0,
        only_app: str | None = None,
        owner: str | None = None,
        owns: Callable[[str], Awaitable[bool]] | None = None,
        may_draft: bool = True,
        admit_turn: Callable[[str], Awaitable[Lease | None]] | None = None,
    ) -> None:
        """``only_app``: the socket of an app key or end user talks to that app's
        conversations only (those it starts or resumes); any other is 'not found' to it.
        ``owner``: an end user's or member's id; the conversations it starts are theirs,
        and it resumes only those ``owns`` says are. ``may_draft``: the caller may chat
        with an unsaved draft (an editor's debug chat), not only the published app."""
        self.may_draft = may_draft
        #: Admits a turn with an app under the limits (a lease to release, or None).
        self.admit_turn = admit_turn
        self.app_of: dict[str, str] = {}
        self.ws = ws
        self.only_app = only_app
        self.owner = owner
        self.owns = owns
        self.opened: set[str] = set()
        self.router = router
        self.workspace_id = workspace_id
        self.max_message_chars = max_message_chars
        self.current: str | None = None
        self.drafts: dict[str, AppSpec] = {}
        self.turns: dict[str, asyncio.Task[None]] = {}
        #: Send a turn's events several to a frame (the client asked in start/resume).
        self.batch_frames = False
        self.slow_reader_timeout_s = slow_reader_timeout_s
        #: Frames waiting for the client, written in order by one task.
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=send_buffer_frames)
        self._writer: asyncio.Task[None] | None = None
        #: The client is gone or was disconnected: frames are dropped, turns run on.
        self.gone = asyncio.Event()
        #: It was disconnected for staying behind (its turns are not stopped).
        self.slow_reader = False

    async def send(self, payload: dict[str, JsonValue]) -> None:
        await self.send_text(json.dumps(payload, ensure_ascii=False, default=str))

    async def send_text(self, text: str) -> None:
        """Queue a frame for the client; a client that leaves it full too long is
        disconnected (and later frames are dropped)."""
        if self.gone.is_set():
            return
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        try:
            await asyncio.wait_for(self._outbox.put(text), self.slow_reader_timeout_s)
        except TimeoutError:
            await self._disconnect_slow_reader()

    async def _write(self) -> None:
        try:
            while True:
                await self.ws.send_text(await self._outbox.get())
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.gone.set()  # the client left; serve() notices and cleans up

    async def _disconnect_slow_reader(self) -> None:
        if self.gone.is_set():
            return
        self.gone.set()
        self.slow_reader = True
        log.warning(
            "ws_slow_reader_disconnected",
            waiting_frames=self._outbox.qsize(),
            timeout_s=self.slow_reader_timeout_s,
            turns=len(self.turns),
        )
        if self._writer is not None:
            self._writer.cancel()
        try:
            await self.ws.close(code=SLOW_READER_CLOSE, reason=error_codes.SLOW_READER)
        except (RuntimeError, OSError):
            pass  # already closing

    async def send_event(self, event: Event) -> None:
        await self.send_text(event.model_dump_json())

    async def error(self, code: str, message: str, conversation_id: str | None = None) -> None:
        await self.send_event(
            ErrorEvent(
                conversation_id=conversation_id or self.current or "", code=code, message=message
            )
        )

    async def serve(self) -> None:
        await self.ws.accept()
        try:
            while (raw := await self._receive()) is not None:
                await self.handle(raw)
        except WebSocketDisconnect:
            pass
        finally:
            await self.close()

    async def _receive(self) -> str | None:
        """The client's next frame; None once the socket is gone."""
        receiving = asyncio.ensure_future(self.ws.receive_text())
        gone = asyncio.ensure_future(self.gone.wait())
        await asyncio.wait({receiving, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not receiving.done():
            receiving.cancel()
            return None
        return receiving.result()

    async def close(self) -> None:
        """Client gone: stop its running turns, so each answer is stored as stopped. A
        slow reader's turns are not stopped: they run to their end and are stored."""
        slow = self.slow_reader
        self.gone.set()
        for conversation_id, task in list(self.turns.items()):
            if not task.done():
                if not slow:
                    try:
                        await self.router.stop(conversation_id)
                    except ChorusError:
                        pass
                try:
                    await asyncio.wait_for(asyncio.shield(task), timeout=None if slow else 30)
                except (TimeoutError, Exception):  # noqa: BLE001 - socket is gone
                    task.cancel()
        if self._writer is not None:
            self._writer.cancel()

    async def handle(self, raw: str) -> None:
        if len(raw) > self.max_message_chars * 2 + 4096:
            await self.error(
                error_codes.MESSAGE_TOO_LARGE, f"frame over {self.max_message_chars} characters"
            )
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            await self.error(error_codes.INVALID_JSON, f"the frame is not valid JSON: {exc.msg}")
            return
        if not isinstance(data, dict) or data.get("type") not in KNOWN_FRAMES:
            kind = data.get("type") if isinstance(data, dict) else None
            await self.error(
                error_codes.UNKNOWN_FRAME,
                f"unknown frame type {kind!r}; expected one of {sorted(KNOWN_FRAMES)}",
            )
            return
        try:
            frame = FRAME_ADAPTER.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"][1:]) or "frame"
            await self.error(error_codes.INVALID_FRAME, f"invalid field '{field}': {first['msg']}")
            return
        try:
            await self.dispatch(frame)
        except ChorusError as exc:
            await self.error(exc.code, exc.message)

    async def dispatch(self, frame: ClientFrame) -> None:
        if isinstance(frame, PingFrame):
            await self.send({"type": "pong"})
        elif isinstance(frame, StartFrame):
            if self.only_app is not None and frame.app_id != self.only_app:
                await self.error(error_codes.APP_NOT_FOUND, "no such app")
                return
            if frame.draft is not None and not self.may_draft:
                await self.error(
                    error_codes.FORBIDDEN, "chatting with a draft needs the role 'editor'"
                )
                return
            if frame.batch is not None:
                self.batch_frames = frame.batch
            conversation_id = new_id("conv")
            started = await self.router.start(
                self.workspace_id,
                frame.app_id,
                conversation_id,
                inputs=frame.inputs,
                user_id=self.owner or frame.user_id,
                draft=frame.draft,
            )
            if frame.draft is not None:
                self.drafts[conversation_id] = frame.draft
            self.app_of[conversation_id] = frame.app_id
            self.current = conversation_id
            self.opened.add(conversation_id)
            await self.send_event(started)
        elif isinstance(frame, ResumeFrame):
            if self.owns is not None and not await self.owns(frame.conversation_id):
                await self.error(error_codes.CONVERSATION_NOT_FOUND, "no such conversation")
                return
            if frame.batch is not None:
                self.batch_frames = frame.batch
            started = await self.router.resume(self.workspace_id, frame.conversation_id)
            if self.only_app is not None and started.app_id != self.only_app:
                await self.error(error_codes.CONVERSATION_NOT_FOUND, "no such conversation")
                return
            self.app_of[frame.conversation_id] = started.app_id
            self.current = frame.conversation_id
            self.opened.add(frame.conversation_id)
            await self.send_event(started)
        elif isinstance(frame, StopFrame):
            stopping = frame.conversation_id or self.current
            # only a conversation opened on this socket (never another workspace's)
            if stopping not in self.opened or not await self.router.stop(stopping):
                await self.error(
                    error_codes.NO_TURN_RUNNING, "there is no answer streaming to stop"
                )
        elif isinstance(frame, MessageFrame):
            await self.message(frame)

    async def message(self, frame: MessageFrame) -> None:
        conversation_id = frame.conversation_id or self.current
        if conversation_id is None:
            await self.error(error_codes.NO_CONVERSATION, "send a 'start' or 'resume' frame first")
            return
        if self.only_app is not None and conversation_id not in self.opened:
            await self.error(
                error_codes.CONVERSATION_NOT_FOUND, "no such conversation", conversation_id
            )
            return
        if len(frame.content) > self.max_message_chars:
            await self.error(
                error_codes.MESSAGE_TOO_LARGE,
                f"the message has {len(frame.content)} characters; the limit is "
                f"{self.max_message_chars}",
                conversation_id,
            )
            return
        running = self.turns.get(conversation_id)
        if running is not None and not running.done():
            await self.error(
                error_codes.TURN_IN_PROGRESS,
                "an answer is still streaming; stop it or wait for message_end",
                conversation_id,
            )
            return
        lease = None
        app_id = self.app_of.get(conversation_id)
        if self.admit_turn is not None and conversation_id not in self.drafts:
            if app_id is None:  # sent to a conversation without a start or resume here
                app_id = (await self.router.resume(self.workspace_id, conversation_id)).app_id
                self.app_of[conversation_id] = app_id
            lease = await self.admit_turn(app_id)  # a refusal is this frame's error
        self.turns[conversation_id] = asyncio.create_task(
            self._stream(conversation_id, frame.content, lease)
        )

    async def _stream(self, conversation_id: str, text: str, lease: Lease | None = None) -> None:
        tokens = 0
        try:
            batches = self.router.send_batches(
                self.workspace_id, conversation_id, text, self.drafts.get(conversation_id)
            )
            async for batch in batches:
                if (
                    batch[-1].type == "message_end"
                    and self.turns.get(conversation_id) is asyncio.current_task()
                ):
                    # The turn is over for the client once it sees this event.
                    del self.turns[conversation_id]
                tokens += sum(
                    e.prompt_tokens + e.completion_tokens
                    for e in batch
                    if isinstance(e, UsageEvent)
                )
                if self.batch_frames and len(batch) > 1:
                    await self.send_text(_batch_frame(batch))
                else:
                    for event in batch:
                        await self.send_text(event.model_dump_json())
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left; close() stops the turn
        except ChorusError as exc:
            await self.error(exc.code, exc.message, conversation_id)
        finally:
            if lease is not None:
                await lease.release(tokens)


def _batch_frame(events: list[Event]) -> str:
    """An :class:`EventBatchFrame` as JSON, from each event's own serialisation."""
    return '{"type":"batch","events":[' + ",".join(e.model_dump_json() for e in events) + "]}"
