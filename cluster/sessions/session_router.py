"""Finds (or creates) the shard that owns a conversation, by rendezvous hashing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar, Unpack

import structlog
from ray.actor import ActorHandle
from ray.exceptions import RayError

from agents import error_codes
from agents.apps.spec import AppSpec
from agents.coalesce import flatten
from agents.errors import UpstreamUnavailableError
from agents.events import ConversationStarted, ErrorEvent, Event
from agents.ids import new_id
from cluster.actor_calls import call_actor, settle, stream_actor
from cluster.sessions.rendezvous import owner
from cluster.sessions.session_shard import NAMESPACE, SessionShard, StartOptions
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
#: How long a turn waits for its restarting shard before giving up.
RESTART_WAIT_S = 60.0
T = TypeVar("T")


async def _settle(awaitable: Awaitable[T]) -> T:
    return await settle(awaitable, what="the session", code=error_codes.SESSION_UNAVAILABLE)


def shard_names(count: int) -> list[str]:
    """The actor names of ``count`` session shards (namespace ``chorus``)."""
    return [f"chorus-session-{i}" for i in range(count)]


class SessionRouter:
    """Routes each conversation to its shard (created on first use, detached, restartable)."""

    def __init__(self, settings: ChorusSettings, app_name: str) -> None:
        self.names = shard_names(settings.session_shards)
        self._args = (settings, app_name)
        self.ahead = settings.stream_ahead_batches
        self._handles: dict[str, ActorHandle[SessionShard]] = {}

    def shard(self, conversation_id: str) -> ActorHandle[SessionShard]:
        name = owner(conversation_id, self.names)
        if name not in self._handles:
            # @ray.remote makes SessionShard an ActorClass; mypy keeps the plain class.
            self._handles[name] = SessionShard.options(  # type: ignore[attr-defined]
                name=name, namespace=NAMESPACE, get_if_exists=True, lifetime="detached"
            ).remote(name, *self._args)
        return self._handles[name]

    async def start(
        self,
        workspace_id: str,
        app_id: str,
        conversation_id: str,
        **options: Unpack[StartOptions],
    ) -> ConversationStarted:
        return await _settle(
            call_actor(
                self.shard(conversation_id),
                SessionShard.start_conversation,
                workspace_id,
                app_id,
                conversation_id=conversation_id,
                **options,
            )
        )

    async def resume(self, workspace_id: str, conversation_id: str) -> ConversationStarted:
        return await _settle(
            call_actor(
                self.shard(conversation_id),
                SessionShard.resume_conversation,
                workspace_id,
                conversation_id,
            )
        )

    def send(
        self, workspace_id: str, conversation_id: str, text: str, draft: AppSpec | None = None
    ) -> AsyncIterator[Event]:
        """The turn's events, one by one (see :meth:`send_batches`)."""
        return flatten(self.send_batches(workspace_id, conversation_id, text, draft))

    async def send_batches(
        self, workspace_id: str, conversation_id: str, text: str, draft: AppSpec | None = None
    ) -> AsyncIterator[list[Event]]:
        """The turn's events, in the batches the shard sent them in.

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
            refs = stream_actor(
                self.shard(conversation_id),
                SessionShard.send_message,
                self.ahead,
                workspace_id,
                conversation_id,
                text,
                draft,
                turn_id,
            )
            started = False
            try:
                async for ref in refs:
                    batch = await ref
                    started = True
                    yield batch
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
        yield [
            ErrorEvent(
                conversation_id=conversation_id,
                code=error_codes.SESSION_INTERRUPTED,
                message="the session restarted mid-answer; send the message again",
            )
        ]

    async def stop(self, conversation_id: str) -> bool:
        try:
            shard = self.shard(conversation_id)
            return bool(await call_actor(shard, SessionShard.stop_turn, conversation_id))
        except RayError as exc:
            raise UpstreamUnavailableError(
                "the session is restarting",
                code=error_codes.SESSION_UNAVAILABLE,
                retry_after=2.0,
            ) from exc

    async def forget(self, conversation_id: str) -> None:
        try:
            shard = self.shard(conversation_id)
            await call_actor(shard, SessionShard.forget_conversation, conversation_id)
        except RayError:
            pass  # a restarting shard has nothing cached
