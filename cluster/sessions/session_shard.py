"""SessionShard: the Ray actor that owns many conversations (a thin shell over SessionHost).

Shards are async, named (``chorus-session-<i>`` in namespace ``chorus``), detached
and restartable; a restarted shard reloads each conversation from the store on
first use. Only pydantic records and events cross the actor boundary.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import ray
import structlog

from agents.apps.spec import AppSpec
from agents.conversation.events import ConversationStarted, Event
from cluster.engines.deployments import deployment_name
from cluster.engines.handle_engine import engine_for_model
from cluster.log_config import configure_logging
from cluster.sessions import session_metrics
from cluster.sessions.session_host import SessionHost
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
NAMESPACE = "chorus"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=100_000)
class SessionShard(SessionHost):
    def __init__(
        self,
        name: str,
        database_url: str,
        models: dict[str, str],
        app_name: str,
        capacity: int,
        log_level: str = "INFO",
        settings: ChorusSettings | None = None,
    ) -> None:
        from cluster.store import SqlConversationStore

        configure_logging(log_level)
        structlog.contextvars.bind_contextvars(shard=name)
        self._knowledge_store: Any = None
        retriever = None
        tools = None
        engine_for = engine_for_model(models, app_name)
        if settings is not None:
            from cluster.tools.app_tools import AppTools
            from cluster.tools.factory import build_tool_service

            retriever = self._retriever(settings, app_name)
            tool_service = build_tool_service(settings)
            tools = AppTools(
                settings, engine_for, retriever, tool_service, self._crews(settings, tool_service)
            )
        super().__init__(
            SqlConversationStore(database_url),
            engine_for,
            capacity,
            retriever=retriever,
            tools=tools,
        )
        self.name = name
        self._opened: asyncio.Task[None] | None = None
        restarts = ray.get_runtime_context().was_current_actor_reconstructed
        log.info("session_shard_started", restarted=restarts, pid=os.getpid())

    @staticmethod
    def _crews(settings: ChorusSettings, tool_service: Any) -> Any:
        """Crews run from chat talk to the models through the gateway's OpenAI API."""
        from cluster.crews.crew_service import CrewService
        from cluster.store import SqlCrewStore

        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        return CrewService(
            SqlCrewStore(settings.resolved_database_url()),
            gateway_url=f"http://{host}:{settings.port}",
            default_model=settings.engines[0].name,
            tools_for=tool_service.tools_for,
        )

    def _retriever(self, settings: ChorusSettings, app_name: str) -> Any:
        from ray import serve

        from cluster.knowledge.retriever import HandleEmbedder, KnowledgeRetriever, open_index
        from cluster.store import SqlKnowledgeStore

        self._knowledge_store = SqlKnowledgeStore(settings.resolved_database_url())
        handle = serve.get_deployment_handle("EmbeddingDeployment", app_name)
        models = {e.name: deployment_name(e.name) for e in settings.engines}
        return KnowledgeRetriever(
            self._knowledge_store,
            open_index(settings),
            HandleEmbedder(handle),
            engine_for_model(models, app_name),
            settings.engines[0].name,
        )

    async def _open(self) -> None:
        """Connect the stores on first use (the gateway migrated them before creating shards)."""
        if self._opened is None:
            self._opened = asyncio.ensure_future(self._start_stores())
        await self._opened

    async def _start_stores(self) -> None:
        await self.store.start()  # type: ignore[attr-defined]
        if self._knowledge_store is not None:
            await self._knowledge_store.start()

    async def start_conversation(
        self, workspace_id: str, app_id: str, **kw: Any
    ) -> ConversationStarted:
        await self._open()
        started = await self.start(workspace_id, app_id, **kw)
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
    ) -> AsyncIterator[Event]:
        await self._open()
        async for event in self.send(workspace_id, conversation_id, text, draft, turn_id):
            session_metrics.observe(self.name, event)
            yield event
        session_metrics.set_live(self.name, self.live_count())

    def stop_turn(self, conversation_id: str) -> bool:
        return self.stop(conversation_id)

    def forget_conversation(self, conversation_id: str) -> None:
        self.forget(conversation_id)

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "pid": os.getpid(), "live": self.live_count()}
