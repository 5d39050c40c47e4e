"""The durable store of workflows and their runs (WorkflowStoreProtocol on SQLAlchemy).

Every read is scoped by workspace: another workspace's workflow or run is "not
found". Runs and node runs are saved as the engine reports them (a run row is
updated in place as it finishes); deleting a workflow keeps its runs' history.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.errors import InvalidInputError, NotFoundError
from agents.ids import utcnow
from agents.workflows.graph import WorkflowSpec
from agents.workflows.records import NodeRunRecord, WorkflowRecord, WorkflowRunRecord
from cluster.store.base_store import BaseSqlStore
from cluster.store.tables import WorkflowNodeRunRow, WorkflowRow, WorkflowRunRow


def _not_found(workflow_id: str) -> NotFoundError:
    return NotFoundError(
        f"workflow {workflow_id} not found", code="workflow_not_found", param="workflow_id"
    )


def _record(row: WorkflowRow) -> WorkflowRecord:
    return WorkflowRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        spec=WorkflowSpec.model_validate(row.spec),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlWorkflowStore(BaseSqlStore):
    """WorkflowStoreProtocol on a SQL database; call ``start()`` before use."""

    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        async with self._workspace_session(record.workspace_id) as session:
            session.add(
                WorkflowRow(
                    id=record.id,
                    workspace_id=record.workspace_id,
                    name=record.spec.name,
                    spec=record.spec.model_dump(mode="json", by_alias=True),
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                )
            )
            try:
                await session.flush()
            except IntegrityError as exc:
                raise InvalidInputError(f"workflow '{record.id}' exists") from exc
        return record

    async def _row(self, session: AsyncSession, workspace_id: str, workflow_id: str) -> WorkflowRow:
        return await self._owned(session, WorkflowRow, workflow_id, workspace_id, _not_found)

    async def get_workflow(self, workspace_id: str, workflow_id: str) -> WorkflowRecord:
        async with self._session() as session:
            return _record(await self._row(session, workspace_id, workflow_id))

    async def list_workflows(self, workspace_id: str) -> list[WorkflowRecord]:
        return [_record(row) for row in await self._list_owned(WorkflowRow, workspace_id)]

    async def update_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        async with self._session(write=True) as session:
            row = await self._row(session, record.workspace_id, record.id)
            record.updated_at = utcnow()
            row.name = record.spec.name
            row.spec = record.spec.model_dump(mode="json", by_alias=True)
            row.updated_at = record.updated_at
        return record

    async def delete_workflow(self, workspace_id: str, workflow_id: str) -> None:
        await self._delete_owned(WorkflowRow, workflow_id, workspace_id, _not_found)

    async def save_run(self, run: WorkflowRunRecord) -> None:
        await self._save_run_row(WorkflowRunRow, run, workflow_id=run.workflow_id)

    async def save_node_run(self, node_run: NodeRunRecord) -> None:
        async with self._session(write=True) as session:
            session.add(
                WorkflowNodeRunRow(
                    id=node_run.id,
                    run_id=node_run.run_id,
                    node_id=node_run.node_id,
                    status=node_run.status,
                    record=node_run.model_dump(mode="json"),
                    started_at=node_run.started_at,
                )
            )

    async def get_run(self, workspace_id: str, run_id: str) -> WorkflowRunRecord:
        async with self._session() as session:
            row = await session.get(WorkflowRunRow, run_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFoundError(f"run {run_id} not found", code="run_not_found", param="run_id")
            return WorkflowRunRecord.model_validate(row.record)

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        query = (
            select(WorkflowNodeRunRow)
            .where(WorkflowNodeRunRow.run_id == run_id)
            .order_by(WorkflowNodeRunRow.started_at, WorkflowNodeRunRow.id)
        )
        async with self._session() as session:
            return [NodeRunRecord.model_validate(r.record) for r in await session.scalars(query)]
