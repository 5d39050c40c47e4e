"""Where workflows and runs live: the protocol, and an in-memory store for tests."""

from __future__ import annotations

from typing import Protocol

from agents import error_codes
from agents.repository import InMemoryRunRepository, RecordKind, RunRepositoryProtocol
from agents.workflows.records import NodeRunRecord, WorkflowRecord, WorkflowRunRecord

WORKFLOW = RecordKind("workflow", error_codes.WORKFLOW_NOT_FOUND, "workflow_id")


class WorkflowStoreProtocol(RunRepositoryProtocol[WorkflowRecord, WorkflowRunRecord], Protocol):
    """Workflows and their runs (the generic repository), and each run's node executions."""

    async def save_node_run(self, node_run: NodeRunRecord) -> None: ...
    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]: ...


class InMemoryWorkflowStore(InMemoryRunRepository[WorkflowRecord, WorkflowRunRecord]):
    def __init__(self) -> None:
        super().__init__(WORKFLOW)
        self.node_runs: dict[str, list[NodeRunRecord]] = {}

    async def save_node_run(self, node_run: NodeRunRecord) -> None:
        self.node_runs.setdefault(node_run.run_id, []).append(node_run.model_copy(deep=True))

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        return [r.model_copy(deep=True) for r in self.node_runs.get(run_id, [])]
