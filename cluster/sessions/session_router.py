"""Finds (or creates) the shard that owns a conversation, by rendezvous hashing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ray.actor import ActorHandle
from ray.exceptions import RayError

from agents.apps.spec import AppSpec
from agents.conversation.events import ConversationStarted, ErrorEvent, Event
from agents.errors import UpstreamUnavailableError
from cluster.engines.handle_engine import call
from cluster.sessions.rendezvous import owner
from cluster.sessions.session_shard import NAMESPACE, SessionShard


class SessionRouter:
    def __init__(
        self,
        *,
        shards: int,
        database_url: str,
        models: dict[str, str],
        app_name: str,
        capacity: int,
        log_level: str = "INFO",
    ) -> None:
        self.names = [f"chorus-session-{i}" for i in range(shards)]
        self._args = (database_url, models, app_name, capacity, log_level)
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
        """The turn's events. If the shard dies mid-turn: one ``error`` event
        (``session_interrupted``); the next turn reloads the stored history."""
        refs = (
            self.shard(conversation_id)
            .send_message.options(num_returns="streaming")
            .remote(workspace_id, conversation_id, text, draft)
        )
        try:
            async for ref in refs:
                yield await ref
        except RayError:
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
