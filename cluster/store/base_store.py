"""What every SQL store shares: a :class:`~cluster.store.database.Database`, its sessions,
its start and its workspace rows.

A store is built on the process's one ``Database`` (the composition root passes it to
every store), or on a URL, in which case it opens a Database of its own and closes it
with itself. ``start()`` on any store starts the shared database (migrating it once).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.errors import ChorusError
from cluster.store.database import Database
from cluster.store.tables import Base, OwnedRow

OwnedRowT = TypeVar("OwnedRowT", bound=OwnedRow)


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

    @staticmethod
    async def _add(session: AsyncSession, row: Base, conflict: ChorusError) -> None:
        """Insert the row now; ``conflict`` is raised if its key is taken."""
        session.add(row)
        await BaseSqlStore._flush(session, conflict)

    @staticmethod
    async def _flush(session: AsyncSession, conflict: ChorusError) -> None:
        """Write the session's changes now; ``conflict`` is raised if they break a primary
        key or unique constraint."""
        try:
            await session.flush()
        except IntegrityError as exc:
            raise conflict from exc

    async def _owned_rows(self, rows: type[OwnedRowT], workspace_id: str) -> list[OwnedRowT]:
        """The workspace's rows of the table, oldest first."""
        query = (
            select(rows).where(rows.workspace_id == workspace_id).order_by(rows.created_at, rows.id)
        )
        async with self._session() as session:
            return list(await session.scalars(query))
