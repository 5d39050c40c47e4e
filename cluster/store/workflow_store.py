"""The durable store of workflows and their runs (WorkflowStoreProtocol on SQLAlchemy).

The workflow and its runs are the generic workspace-owned repository
(:mod:`cluster.store.repository`): another workspace's workflow or run is "not
found", runs are updated in place as they finish, deleting a workflow keeps its
runs. A run's node executions are this store's own: one row each, as the engine
reports them.
"""

from __future__ import annotations

from sqlalchemy import select

from agents.workflows.records import NodeRunRecord, WorkflowRecord, WorkflowRunRecord
from agents.workflows.store import WORKFLOW
from cluster.store.database import Database
from cluster.store.repository import SqlRunRepository
from cluster.store.tables.workflows import WorkflowNodeRunRow


class SqlWorkflowStore(SqlRunRepository[WorkflowRecord, WorkflowRunRecord]):
    """WorkflowStoreProtocol on a SQL database; call ``start()`` before use."""

    def __init__(self, database: Database | str) -> None:
        super().__init__(database, WORKFLOW, WorkflowRecord, WorkflowRunRecord)

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

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        query = (
            select(WorkflowNodeRunRow)
            .where(WorkflowNodeRunRow.run_id == run_id)
            .order_by(WorkflowNodeRunRow.started_at, WorkflowNodeRunRow.id)
        )
        async with self._session() as session:
            return [NodeRunRecord.model_validate(r.record) for r in await session.scalars(query)]
