"""What every SQL store shares: a :class:`~cluster.store.database.Database`, its sessions,
its start and its workspace rows.

A store is built on the process's one ``Database`` (the composition root passes it to
every store), or on a URL, in which case it opens a Database of its own and closes it
with itself. ``start()`` on any store starts the shared database (migrating it once).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.errors import ChorusError
from cluster.store.database import Database

R = TypeVar("R")


class BaseSqlStore:
    """A store on a database; call ``start()`` before use (a no-op once it has started)."""

    def __init__(self, database: Database | str) -> None:
        self._owns_database = isinstance(database, str)
        self.database = Database(database) if isinstance(database, str) else database

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.database.backend

    async def start(self) -> None:
        """Start the database: create the SQLite folder, migrate the schema to head (once)."""
        await self.database.start()

    async def close(self) -> None:
        """Close the database if this store opened it; a shared one is its owner's to close."""
        if self._owns_database:
            await self.database.close()

    def _session(self, *, write: bool = False) -> AbstractAsyncContextManager[AsyncSession]:
        """One transaction, committed on success; database outages become errors."""
        return self.database.session(write=write)

    def _workspace_session(self, workspace_id: str) -> AbstractAsyncContextManager[AsyncSession]:
        """A write transaction that first creates the workspace's row (on its first use)."""
        return self.database.workspace_session(workspace_id)

    # -- rows owned by a workspace (workflows, tool providers, crews, their runs) -----------

    @staticmethod
    async def _owned(
        session: AsyncSession,
        row_class: type[R],
        row_id: str,
        workspace_id: str,
        not_found: Callable[[str], ChorusError],
    ) -> R:
        """The row, if it belongs to ``workspace_id``; another workspace's is not found."""
        row = await session.get(row_class, row_id)
        if row is None or row.workspace_id != workspace_id:  # type: ignore[attr-defined]
            raise not_found(row_id)
        return row

    async def _list_owned(self, row_class: Any, workspace_id: str) -> list[Any]:
        """A workspace's rows, oldest first."""
        query = (
            select(row_class)
            .where(row_class.workspace_id == workspace_id)
            .order_by(row_class.created_at, row_class.id)
        )
        async with self._session() as session:
            return list(await session.scalars(query))

    async def _delete_owned(
        self,
        row_class: Any,
        row_id: str,
        workspace_id: str,
        not_found: Callable[[str], ChorusError],
    ) -> None:
        async with self._session(write=True) as session:
            await self._owned(session, row_class, row_id, workspace_id, not_found)
            await session.execute(delete(row_class).where(row_class.id == row_id))

    async def _save_run_row(self, row_class: Any, run: Any, **keys: Any) -> None:
        """Insert a run's row or update its status and JSON record (runs are saved as
        they progress); ``keys`` are the run row's other indexed columns."""
        body = run.model_dump(mode="json")
        async with self._session(write=True) as session:
            row = await session.get(row_class, run.id)
            if row is None:
                session.add(
                    row_class(
                        id=run.id,
                        workspace_id=run.workspace_id,
                        status=run.status,
                        record=body,
                        started_at=run.started_at,
                        **keys,
                    )
                )
            else:
                row.status, row.record = run.status, body
