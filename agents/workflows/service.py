"""Workflows as a service: stored, validated, and run with the services the composition
root injects (chat engines, the knowledge retriever, the code sandbox, the SSRF guard
for HTTP nodes, each workspace's tools).

On the server, runs execute in the process that asked (the gateway replica for the
API, a session shard for an app's workflow skill): the engine is asyncio and its heavy
parts — models, embeddings, code — run in other processes. Every run is stored with
its node records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog

from agents.engine import EngineProtocol
from agents.events import Event
from agents.knowledge.retriever import RetrieverProtocol
from agents.outbound import HttpClientProtocol
from agents.sandbox.code_runner import CodeRunnerProtocol
from agents.workflows.context import ToolLookupProtocol, WorkflowServices
from agents.workflows.engine import WorkflowEngine
from agents.workflows.graph import WorkflowSpec
from agents.workflows.records import WorkflowRecord
from agents.workflows.store import WorkflowStoreProtocol
from agents.workflows.validation import compile_workflow

log = structlog.get_logger(__name__)


class WorkflowService:
    def __init__(
        self,
        store: WorkflowStoreProtocol,
        *,
        engine_for: Callable[[str], EngineProtocol] | None,
        default_model: str | None,
        retriever: RetrieverProtocol | None = None,
        code: CodeRunnerProtocol | None = None,
        http: HttpClientProtocol | None = None,
        tools: ToolLookupProtocol | None = None,
        tools_for: Callable[[str], Awaitable[ToolLookupProtocol]] | None = None,
    ) -> None:
        self.store = store
        self._engine_for = engine_for
        self._default_model = default_model
        self._retriever = retriever
        self._code = code
        self._http = http
        self._tools = tools
        self._tools_for = tools_for

    async def start(self) -> None:
        """Open the store (SQL stores connect and migrate on start)."""
        start = getattr(self.store, "start", None)
        if start is not None:
            await start()

    def services(
        self, workspace_id: str, tools: ToolLookupProtocol | None = None
    ) -> WorkflowServices:
        return WorkflowServices(
            engine_for=self._engine_for,
            default_model=self._default_model,
            retriever=self._retriever,
            code=self._code,
            http=self._http,
            tools=tools or self._tools,
            workspace_id=workspace_id,
        )

    async def create(self, workspace_id: str, spec: WorkflowSpec) -> WorkflowRecord:
        compile_workflow(spec)
        return await self.store.create_record(WorkflowRecord(workspace_id=workspace_id, spec=spec))

    async def update(
        self, workspace_id: str, workflow_id: str, spec: WorkflowSpec
    ) -> WorkflowRecord:
        compile_workflow(spec)
        record = await self.store.get_record(workspace_id, workflow_id)
        record.spec = spec
        return await self.store.update_record(record)

    async def run(
        self,
        workspace_id: str,
        workflow_id: str,
        inputs: dict[str, Any],
        *,
        conversation_id: str | None = None,
        query: str = "",
        user_id: str = "",
        history: list[dict[str, str]] | None = None,
    ) -> AsyncIterator[Event]:
        """Run a stored workflow; yields its events (see agents.workflows.engine). A
        workflow stored before a change made it invalid fails with workflow_invalid."""
        record = await self.store.get_record(workspace_id, workflow_id)
        compiled = compile_workflow(record.spec)
        tools = await self._tools_for(workspace_id) if self._tools_for is not None else None
        engine = WorkflowEngine(self.services(workspace_id, tools), self.store)
        async for event in engine.run(
            compiled,
            inputs,
            workflow_id=workflow_id,
            conversation_id=conversation_id,
            query=query,
            user_id=user_id,
            history=history,
        ):
            yield event

    async def run_to_end(
        self, workspace_id: str, workflow_id: str, inputs: dict[str, Any], **kw: Any
    ) -> dict[str, Any]:
        """Run and wait: the run's id, status, outputs, error and usage."""
        final: dict[str, Any] = {}
        error: dict[str, Any] | None = None
        async for event in self.run(workspace_id, workflow_id, inputs, **kw):
            if event.type == "error":
                error = {"code": event.code, "message": event.message, "node_id": event.node_id,
                         "details": event.details}  # fmt: skip
            elif event.type == "workflow_finished":
                final = {
                    "run_id": event.run_id,
                    "workflow_id": event.workflow_id,
                    "status": event.status,
                    "outputs": event.outputs,
                    "error": error,
                    "elapsed_ms": event.elapsed_ms,
                    "total_tokens": event.total_tokens,
                }
        return final
