"""SessionShard: the Ray actor that owns many conversations (a thin shell over SessionHost).

Shards are async, named (``chorus-session-<i>`` in namespace ``chorus``), detached
and restartable; a restarted shard reloads each conversation from the store on
first use. Only pydantic records and events cross the actor boundary.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import TypedDict, Unpack

import ray
import structlog

from agents.apps.spec import AppSpec
from agents.coalesce import coalesce
from agents.conversation.records import EarlierMessage
from agents.conversation.service import SessionHost
from agents.events import ConversationStarted, Event
from cluster.log_config import configure_logging
from cluster.sessions import session_metrics
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
NAMESPACE = "chorus"


def _is_delta(event: Event) -> bool:
    return event.type == "delta"


class StartOptions(TypedDict, total=False):
    """How a conversation starts, besides its id (see :meth:`SessionHost.start`)."""

    inputs: dict[str, str]
    user_id: str | None
    draft: AppSpec | None
    history: list[EarlierMessage]


class ShardInfo(TypedDict):
    """What :meth:`SessionShard.info` reports (tests and operators)."""

    name: str
    pid: int
    live: int


# Ray's overloads of ray.remote(...) list task options only; max_concurrency is an actor's.
@ray.remote(  # type: ignore[call-overload]
    num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=100_000
)
class SessionShard(SessionHost):
    def __init__(self, name: str, settings: ChorusSettings, app_name: str) -> None:
        from cluster.runtime import build_services

        configure_logging(settings.log_level, settings.log_json)
        structlog.contextvars.bind_contextvars(shard=name)
        self.services = build_services(settings, app_name)
        super().__init__(
            self.services.stores.conversations,
            self.services.engines,
            settings.session_capacity,
            retriever=self.services.retriever,
            tools=self.services.app_tools,
        )
        self.name = name
        self.batches = settings.stream_batches()
        restarts = ray.get_runtime_context().was_current_actor_reconstructed
        log.info("session_shard_started", restarted=restarts, pid=os.getpid())

    async def _open(self) -> None:
        """Connect the stores on first use (the gateway migrated them before creating shards)."""
        await self.services.start()

    async def start_conversation(
        self,
        workspace_id: str,
        app_id: str,
        conversation_id: str,
        **options: Unpack[StartOptions],
    ) -> ConversationStarted:
        await self._open()
        started = await self.start(workspace_id, app_id, conversation_id=conversation_id, **options)
        session_metrics.set_live(self.name, self.live_count())
        return started

    async def resume_conversation(
        self, workspace_id: str, conversation_id: str
    ) -> ConversationStarted:
        await self._open()
        return await self.resume(workspace_id, conversation_id)

    async def send_message(
        self,
        workspace_id: str,
        conversation_id: str,
        text: str,
        draft: AppSpec | None = None,
        turn_id: str | None = None,
    ) -> AsyncIterator[list[Event]]:
        """The turn's events in batches (one Ray item per batch): the first delta alone,
        later deltas batched by age and size, every other event at once."""
        await self._open()
        events = self.send(workspace_id, conversation_id, text, draft, turn_id)
        async for batch in coalesce(events, _is_delta, self.batches, on_flush=self._flushed):
            for event in batch:
                session_metrics.observe(self.name, event)
            yield batch
        session_metrics.set_live(self.name, self.live_count())

    def _flushed(self, size: int, waited_s: float) -> None:
        session_metrics.observe_batch(self.name, size, waited_s)

    def stop_turn(self, conversation_id: str) -> bool:
        return self.stop(conversation_id)

    def forget_conversation(self, conversation_id: str) -> None:
        self.forget(conversation_id)

    def info(self) -> ShardInfo:
        return {"name": self.name, "pid": os.getpid(), "live": self.live_count()}
