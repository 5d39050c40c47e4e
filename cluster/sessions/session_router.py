"""Finds (or creates) the shard that owns a conversation, by rendezvous hashing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from ray.actor import ActorHandle
from ray.exceptions import RayError

from agents.apps.spec import AppSpec
from agents.errors import UpstreamUnavailableError
from agents.events import ConversationStarted, ErrorEvent, Event
from agents.ids import new_id
from cluster.engines.handle_engine import call
from cluster.sessions.rendezvous import owner
from cluster.sessions.session_shard import NAMESPACE, SessionShard
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
#: How long a turn waits for its restarting shard before giving up.
RESTART_WAIT_S = 60.0


def shard_names(count: int) -> list[str]:
    """The actor names of ``count`` session shards (namespace ``chorus``)."""
    return [f"chorus-session-{i}" for i in range(count)]


class SessionRouter:
    """Routes each conversation to its shard (created on first use, detached, restartable)."""

    def __init__(self, settings: ChorusSettings, app_name: str) -> None:
        self.names = shard_names(settings.session_shards)
        self._args = (settings, app_name)
        self._handles: dict[str, ActorHandle] = {}

    def shard(self, conversation_id: str) -> ActorHandle:
        name = owner(conversation_id, self.names)
        if name not in self._handles:
            self._handles[name] = SessionShard.options(  # type: ignore[attr-defined]
                name=name, namespace=NAMESPACE, get_if_exists=True, lifetime="detached"
            ).remote(name, *self._args)
        return self._handles[name]

    async def start(
        self, workspace_id: str, app_id: str, conversation_id: str, **kw: Any
    ) -> ConversationStarted:
        return await call(
            self.shard(conversation_id).start_conversation.remote(
                workspace_id, app_id, conversation_id=conversation_id, **kw
            )
        )

    async def resume(self, workspace_id: str, conversation_id: str) -> ConversationStarted:
        return await call(
            self.shard(conversation_id).resume_conversation.remote(workspace_id, conversation_id)
        )

    async def send(
        self, workspace_id: str, conversation_id: str, text: str, draft: AppSpec | None = None
    ) -> AsyncIterator[Event]:
        """The turn's events.

        A call that fails before any event (its shard died or is restarting) is tried
        again for up to RESTART_WAIT_S, with the same turn id so the shard never runs
        one turn twice. If the shard dies mid-turn: one ``error`` event
        (``session_interrupted``); the next turn reloads the stored history.
        """
        turn_id = new_id("turn")
        deadline = time.monotonic() + RESTART_WAIT_S
        attempt = 0
        while True:
            attempt += 1
            refs = (
                self.shard(conversation_id)
                .send_message.options(num_returns="streaming")
                .remote(workspace_id, conversation_id, text, draft, turn_id)
            )
            started = False
            try:
                async for ref in refs:
                    event = await ref
                    started = True
                    yield event
                return
            except RayError as exc:
                log.warning(
                    "session_call_failed",
                    conversation_id=conversation_id,
                    started=started,
                    attempt=attempt,
                    error=type(exc).__name__,
                    detail=str(exc)[-1500:],
                )
                if started or time.monotonic() > deadline:
                    break
                await asyncio.sleep(min(0.25 * attempt, 2.0))
        yield ErrorEvent(
            conversation_id=conversation_id,
            code="session_interrupted",
            message="the session restarted mid-answer; send the message again",
        )

    async def stop(self, conversation_id: str) -> bool:
        try:
            return bool(await self.shard(conversation_id).stop_turn.remote(conversation_id))
        except RayError as exc:
            raise UpstreamUnavailableError("the session is restarting", retry_after=2.0) from exc

    async def forget(self, conversation_id: str) -> None:
        try:
            await self.shard(conversation_id).forget_conversation.remote(conversation_id)
        except RayError:
            pass  # a restarting shard has nothing cached
