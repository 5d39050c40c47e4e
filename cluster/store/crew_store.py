"""The durable store of crews and their runs (CrewStoreProtocol on SQLAlchemy).

Every read is scoped by workspace: another workspace's crew or run is "not found".
A run row is updated in place as the run finishes; deleting a crew keeps its runs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.crews.records import CrewRecord, CrewRunRecord
from agents.crews.spec import CrewSpec
from agents.crews.store import crew_not_found, run_not_found
from agents.errors import InvalidInputError
from cluster.store.base_store import BaseSqlStore
from cluster.store.tables import CrewRow, CrewRunRow


def _record(row: CrewRow) -> CrewRecord:
    return CrewRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        spec=CrewSpec.model_validate(row.spec),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlCrewStore(BaseSqlStore):
    """CrewStoreProtocol on a SQL database; call ``start()`` before use."""

    async def create_crew(self, record: CrewRecord) -> CrewRecord:
        async with self._workspace_session(record.workspace_id) as session:
            session.add(
                CrewRow(
                    id=record.id,
                    workspace_id=record.workspace_id,
                    name=record.spec.name,
                    spec=record.spec.model_dump(mode="json"),
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                )
            )
            try:
                await session.flush()
            except IntegrityError as exc:
                raise InvalidInputError(f"crew '{record.id}' exists") from exc
        return record

    async def _row(self, session: AsyncSession, workspace_id: str, crew_id: str) -> CrewRow:
        return await self._owned(session, CrewRow, crew_id, workspace_id, crew_not_found)

    async def get_crew(self, workspace_id: str, crew_id: str) -> CrewRecord:
        async with self._session() as session:
            return _record(await self._row(session, workspace_id, crew_id))

    async def list_crews(self, workspace_id: str) -> list[CrewRecord]:
        return [_record(row) for row in await self._list_owned(CrewRow, workspace_id)]

    async def delete_crew(self, workspace_id: str, crew_id: str) -> None:
        await self._delete_owned(CrewRow, crew_id, workspace_id, crew_not_found)

    async def save_run(self, run: CrewRunRecord) -> None:
        await self._save_run_row(CrewRunRow, run, crew_id=run.crew_id)

    async def get_run(self, workspace_id: str, run_id: str) -> CrewRunRecord:
        async with self._session() as session:
            row = await session.get(CrewRunRow, run_id)
            if row is None or row.workspace_id != workspace_id:
                raise run_not_found(run_id)
            return CrewRunRecord.model_validate(row.record)

    async def list_runs(self, workspace_id: str, crew_id: str) -> list[CrewRunRecord]:
        query = (
            select(CrewRunRow)
            .where(CrewRunRow.workspace_id == workspace_id, CrewRunRow.crew_id == crew_id)
            .order_by(CrewRunRow.started_at.desc(), CrewRunRow.id)
        )
        async with self._session() as session:
            return [CrewRunRecord.model_validate(r.record) for r in await session.scalars(query)]
