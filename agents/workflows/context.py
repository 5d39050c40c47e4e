"""What a node may use while it runs: the variable pool, the run's identity, an event
sink, and the services injected by whoever runs the workflow (all optional: a node
that needs a missing one fails with a clear error)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agents import error_codes
from agents.engine import EngineProtocol
from agents.errors import ChorusError
from agents.knowledge.retriever import RetrieverProtocol
from agents.outbound import HttpClientProtocol
from agents.sandbox.code_runner import CodeRunnerProtocol
from agents.workflows.variable_pool import VariablePool


class ToolProtocol(Protocol):
    name: str
    description: str
    parameters: dict[str, Any]

    async def call(self, arguments: dict[str, Any]) -> Any: ...


class ToolLookupProtocol(Protocol):
    def get(self, name: str) -> ToolProtocol:
        """The tool called ``name``; raises NotFoundError."""
        ...


class ServiceMissingError(ChorusError):
    code = error_codes.SERVICE_UNAVAILABLE
    status_code = 503


@dataclass
class WorkflowServices:
    engine_for: Callable[[str], EngineProtocol] | None = None
    default_model: str | None = None
    retriever: RetrieverProtocol | None = None
    code: CodeRunnerProtocol | None = None
    http: HttpClientProtocol | None = None
    tools: ToolLookupProtocol | None = None
    workspace_id: str = "default"

    def engine(self, model: str | None) -> tuple[EngineProtocol, str]:
        name = model or self.default_model
        if self.engine_for is None or not name:
            raise ServiceMissingError("no chat model is available to this workflow")
        return self.engine_for(name), name

    def need(self, name: str) -> Any:
        value = getattr(self, name)
        if value is None:
            raise ServiceMissingError(f"this server runs no {name} service for workflows")
        return value


Emit = Callable[[str, str], Awaitable[None]]  # (node_id, text delta)


@dataclass
class NodeContext:
    pool: VariablePool
    services: WorkflowServices
    run_id: str
    workflow_id: str
    node_id: str
    emit_delta: Emit
    #: Runs the subgraph inside a node (iteration): (node id, pool, step index) -> the
    #: pool after the run; raises the ChorusError that failed it.
    run_subgraph: Callable[[str, VariablePool, int], Awaitable[VariablePool]] | None = None
    history: list[dict[str, str]] = field(default_factory=list)
