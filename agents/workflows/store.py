"""Where workflows and runs live: the protocol, and an in-memory store for tests."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents.errors import NotFoundError
from agents.ids import utcnow
from agents.workflows.records import NodeRunRecord, WorkflowRecord, WorkflowRunRecord


@runtime_checkable
class WorkflowStoreProtocol(Protocol):
    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord: ...

    async def get_workflow(self, workspace_id: str, workflow_id: str) -> WorkflowRecord:
        """Raises NotFoundError (also for another workspace's workflow)."""
        ...

    async def list_workflows(self, workspace_id: str) -> list[WorkflowRecord]: ...

    async def update_workflow(self, record: WorkflowRecord) -> WorkflowRecord: ...

    async def delete_workflow(self, workspace_id: str, workflow_id: str) -> None: ...

    async def save_run(self, run: WorkflowRunRecord) -> None:
        """Insert or update the run."""
        ...

    async def save_node_run(self, node_run: NodeRunRecord) -> None: ...

    async def get_run(self, workspace_id: str, run_id: str) -> WorkflowRunRecord: ...

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]: ...


class InMemoryWorkflowStore:
    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowRecord] = {}
        self.runs: dict[str, WorkflowRunRecord] = {}
        self.node_runs: dict[str, list[NodeRunRecord]] = {}

    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        self.workflows[record.id] = record.model_copy(deep=True)
        return record

    async def get_workflow(self, workspace_id: str, workflow_id: str) -> WorkflowRecord:
        record = self.workflows.get(workflow_id)
        if record is None or record.workspace_id != workspace_id:
            raise NotFoundError(f"workflow {workflow_id} not found", param="workflow_id")
        return record.model_copy(deep=True)

    async def list_workflows(self, workspace_id: str) -> list[WorkflowRecord]:
        found = [w for w in self.workflows.values() if w.workspace_id == workspace_id]
        return sorted(found, key=lambda w: w.created_at)

    async def update_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        await self.get_workflow(record.workspace_id, record.id)
        record.updated_at = utcnow()
        self.workflows[record.id] = record.model_copy(deep=True)
        return record

    async def delete_workflow(self, workspace_id: str, workflow_id: str) -> None:
        await self.get_workflow(workspace_id, workflow_id)
        del self.workflows[workflow_id]

    async def save_run(self, run: WorkflowRunRecord) -> None:
        self.runs[run.id] = run.model_copy(deep=True)

    async def save_node_run(self, node_run: NodeRunRecord) -> None:
        self.node_runs.setdefault(node_run.run_id, []).append(node_run.model_copy(deep=True))

    async def get_run(self, workspace_id: str, run_id: str) -> WorkflowRunRecord:
        run = self.runs.get(run_id)
        if run is None or run.workspace_id != workspace_id:
            raise NotFoundError(f"run {run_id} not found", param="run_id")
        return run.model_copy(deep=True)

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        return [r.model_copy(deep=True) for r in self.node_runs.get(run_id, [])]
