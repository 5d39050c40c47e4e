"""Workflows on the server: stored, validated, imported from Dify, and run with the
cluster's services (chat engines through Ray Serve handles, the knowledge retriever,
the code sandbox, the SSRF guard for HTTP nodes, the tool registry).

Runs execute in the gateway replica that received the request (the engine is asyncio;
its heavy parts — models, embeddings, code — run in other processes), and every run
is stored with its node records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog

from agents.events import Event
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
        engine_for: Callable[[str], Any] | None,
        default_model: str | None,
        retriever: Any = None,
        code: CodeRunnerProtocol | None = None,
        http: Any = None,
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
        return await self.store.create_workflow(
            WorkflowRecord(workspace_id=workspace_id, spec=spec)
        )

    async def update(
        self, workspace_id: str, workflow_id: str, spec: WorkflowSpec
    ) -> WorkflowRecord:
        compile_workflow(spec)
        record = await self.store.get_workflow(workspace_id, workflow_id)
        record.spec = spec
        return await self.store.update_workflow(record)

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
        record = await self.store.get_workflow(workspace_id, workflow_id)
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


class SandboxCodeRunner:
    """CodeRunnerProtocol over the code sandbox (separate processes, see docs/security.md)."""

    def __init__(self, sandbox: Any, limits: Any = None) -> None:
        self.sandbox = sandbox
        self.limits = limits

    async def run_code(
        self, language: str, code: str, inputs: dict[str, Any], *, timeout_s: float | None = None
    ) -> dict[str, Any]:
        limits = self.limits
        if timeout_s is not None and limits is not None:
            limits = limits.model_copy(update={"wall_seconds": timeout_s})
        return dict((await self.sandbox.run(language, code, inputs, limits)).result)
