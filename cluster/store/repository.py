"""The SQL repository of workspace-owned specs and their runs (``agents.repository``'s
contract on a :class:`~cluster.store.database.Database`).

A spec-like feature has no store of its own: the composition root builds
``SqlRunRepository(database, EVALUATION, EvaluationRecord, EvaluationRunRecord)``, on the
tables made from the kind (:func:`~cluster.store.tables.base.spec_tables`), mapping a
:class:`~agents.repository.SpecRecord` to its row (the spec's name, the spec as JSON)
and keeping each run whole as JSON, updated in place as the run progresses. Deleting a
spec keeps its runs; a repeated id is refused by the primary key. A feature with more
columns subclasses :class:`SqlRepository` (tool providers), one with more to store
:class:`SqlRunRepository` (workflows).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.ids import utcnow
from agents.repository import RUN, RecordKind, RecordT, RunT, SpecRecord
from cluster.store.base_store import BaseSqlStore
from cluster.store.database import Database
from cluster.store.tables.base import OwnedRow, SpecRow, spec_tables

RowT = TypeVar("RowT", bound=SpecRow)
SpecRecordT = TypeVar("SpecRecordT", bound=SpecRecord)


class SqlRepository(BaseSqlStore, ABC, Generic[RecordT, RowT]):
    """Workspace-owned specs of ``kind`` in the table of ``rows``."""

    kind: RecordKind
    rows: type[RowT]

    @abstractmethod
    def fill_row(self, row: RowT, record: RecordT) -> None:
        """Copy the record into the row: every column but the id, the workspace and the
        timestamps, which the repository sets."""

    @abstractmethod
    def to_record(self, row: RowT) -> RecordT:
        """The record the row holds (:meth:`owned_fields` has the common fields)."""

    @staticmethod
    def owned_fields(row: OwnedRow) -> dict[str, Any]:
        """The fields every owned record has, from its row."""
        return {
            "id": row.id,
            "workspace_id": row.workspace_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    def new_row(self, record: RecordT) -> RowT:
        row = self.rows()
        row.id, row.workspace_id = record.id, record.workspace_id
        row.created_at, row.updated_at = record.created_at, record.updated_at
        self.fill_row(row, record)
        return row

    async def create_record(self, record: RecordT) -> RecordT:
        return await self.add_row(record, self.new_row(record))

    async def add_row(self, record: RecordT, row: RowT) -> RecordT:
        """Insert the record's row (made by :meth:`new_row`, with the feature's extras)."""
        async with self._workspace_session(record.workspace_id) as session:
            await self._add(session, row, self.kind.exists(record.id))
        return record

    async def get_record(self, workspace_id: str, record_id: str, /) -> RecordT:
        async with self._session() as session:
            return self.to_record(await self.owned_row(session, workspace_id, record_id))

    async def list_records(self, workspace_id: str, /) -> list[RecordT]:
        return [self.to_record(row) for row in await self._owned_rows(self.rows, workspace_id)]

    async def update_record(self, record: RecordT) -> RecordT:
        """Store ``record``, setting its ``updated_at`` to now (on the object passed too)."""
        async with self._session(write=True) as session:
            row = await self.owned_row(session, record.workspace_id, record.id)
            record.updated_at = utcnow()
            self.fill_row(row, record)
            row.updated_at = record.updated_at
        return record

    async def delete_record(self, workspace_id: str, record_id: str, /) -> None:
        async with self._session(write=True) as session:
            await self.owned_row(session, workspace_id, record_id)
            await session.execute(delete(self.rows).where(self.rows.id == record_id))

    async def owned_row(self, session: AsyncSession, workspace_id: str, record_id: str) -> RowT:
        """The record's row, if the workspace owns it; else the feature's not-found error."""
        row = await session.get(self.rows, record_id)
        if row is None or row.workspace_id != workspace_id:
            raise self.kind.not_found(record_id)
        return row


class SqlRunRepository(SqlRepository[SpecRecordT, SpecRow], Generic[SpecRecordT, RunT]):
    """Specs of ``kind`` (records shaped like ``record_model``) and their runs
    (``run_model``), in the kind's tables: ``agents.repository.RunRepositoryProtocol``."""

    def __init__(
        self,
        database: Database | str,
        kind: RecordKind,
        record_model: type[SpecRecordT],
        run_model: type[RunT],
    ) -> None:
        super().__init__(database)
        self.kind, (self.rows, self.run_rows) = kind, spec_tables(kind)
        self.record_model, self.run_model = record_model, run_model

    def fill_row(self, row: SpecRow, record: SpecRecordT) -> None:
        row.name, row.spec = record.spec.name, record.spec.model_dump(mode="json", by_alias=True)

    def to_record(self, row: SpecRow) -> SpecRecordT:
        return self.record_model.model_validate(self.owned_fields(row) | {"spec": row.spec})

    async def save_run(self, run: RunT) -> None:
        """Insert the run's row, or update its status and record (runs are saved as they
        progress)."""
        body = run.model_dump(mode="json")
        async with self._session(write=True) as session:
            row = await session.get(self.run_rows, run.id)
            if row is None:
                row = self.run_rows()
                row.id, row.workspace_id, row.spec_id = run.id, run.workspace_id, run.spec_id
                row.started_at = run.started_at
                session.add(row)
            row.status, row.record = run.status, body

    async def get_run(self, workspace_id: str, run_id: str, /) -> RunT:
        async with self._session() as session:
            row = await session.get(self.run_rows, run_id)
            if row is None or row.workspace_id != workspace_id:
                raise RUN.not_found(run_id)
            return self.run_model.model_validate(row.record)

    async def list_runs(self, workspace_id: str, spec_id: str, /) -> list[RunT]:
        """The spec's runs, newest first."""
        runs = self.run_rows
        query = (
            select(runs)
            .where(runs.workspace_id == workspace_id, runs.spec_id == spec_id)
            .order_by(runs.started_at.desc(), runs.id)
        )
        async with self._session() as session:
            return [self.run_model.model_validate(r.record) for r in await session.scalars(query)]
