"""Where workflows and runs live: the protocol, and an in-memory store for tests."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents import error_codes
from agents.repository import InMemoryRunRepository, RecordKind
from agents.workflows.records import NodeRunRecord, WorkflowRecord, WorkflowRunRecord

WORKFLOW = RecordKind("workflow", error_codes.WORKFLOW_NOT_FOUND, "workflow_id")


@runtime_checkable
class WorkflowStoreProtocol(Protocol):
    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        """Refuses an id that exists (InvalidInputError)."""
        ...

    async def get_workflow(self, workspace_id: str, workflow_id: str) -> WorkflowRecord:
        """Raises NotFoundError (code workflow_not_found), also for another workspace's."""
        ...

    async def list_workflows(self, workspace_id: str) -> list[WorkflowRecord]:
        """Oldest first."""
        ...

    async def update_workflow(self, record: WorkflowRecord) -> WorkflowRecord: ...

    async def delete_workflow(self, workspace_id: str, workflow_id: str) -> None:
        """The workflow goes; its runs' history stays."""
        ...

    async def save_run(self, run: WorkflowRunRecord) -> None:
        """Insert or update the run."""
        ...

    async def save_node_run(self, node_run: NodeRunRecord) -> None: ...

    async def get_run(self, workspace_id: str, run_id: str) -> WorkflowRunRecord:
        """Raises NotFoundError (code run_not_found), also for another workspace's run."""
        ...

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]: ...


class InMemoryWorkflowStore(InMemoryRunRepository[WorkflowRecord, WorkflowRunRecord]):
    def __init__(self) -> None:
        super().__init__(WORKFLOW)
        self.node_runs: dict[str, list[NodeRunRecord]] = {}

    create_workflow = InMemoryRunRepository.create_record
    get_workflow = InMemoryRunRepository.get_record
    list_workflows = InMemoryRunRepository.list_records
    update_workflow = InMemoryRunRepository.update_record
    delete_workflow = InMemoryRunRepository.delete_record

    async def save_node_run(self, node_run: NodeRunRecord) -> None:
        self.node_runs.setdefault(node_run.run_id, []).append(node_run.model_copy(deep=True))

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        return [r.model_copy(deep=True) for r in self.node_runs.get(run_id, [])]
