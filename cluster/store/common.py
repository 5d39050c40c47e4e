"""What every SQL store shares: an engine, its sessions, the migration, outages, workspace rows.

The stores (:class:`~cluster.store.sql_store.SqlConversationStore`,
:class:`~cluster.store.knowledge_store.SqlKnowledgeStore`) each open their own
engine on the same database URL; each migrates the one schema to head when it
starts, so either may start first or both at once (the migration takes a lock).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.errors import ChorusError, UpstreamUnavailableError
from agents.ids import utcnow
from cluster.store.engine import create_store_engine, parse_database_url, sqlite_path, writer
from cluster.store.migrate import upgrade_to_head
from cluster.store.tables import WorkspaceRow

log = structlog.get_logger(__name__)
R = TypeVar("R")


class BaseSqlStore:
    """One database's engine, sessions and schema; call ``start()`` before use."""

    def __init__(self, url: str) -> None:
        self._url = parse_database_url(url)
        self._engine = create_store_engine(url)
        self._reader = async_sessionmaker(self._engine, expire_on_commit=False)
        self._writer = async_sessionmaker(writer(self._engine), expire_on_commit=False)
        self._workspaces: set[str] = set()

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._url.get_backend_name()

    async def start(self) -> None:
        """Create the SQLite file's folder if needed and migrate the schema to head."""
        path = sqlite_path(self._url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            revision = await upgrade_to_head(writer(self._engine))
        except (OperationalError, InterfaceError, OSError) as exc:
            raise self._unavailable(exc) from exc
        log.info(
            "store_started",
            store=type(self).__name__,
            backend=self.backend,
            url=self._url.render_as_string(hide_password=True),
            revision=revision,
        )

    async def close(self) -> None:
        await self._engine.dispose()
        log.info("store_closed", store=type(self).__name__, backend=self.backend)

    @asynccontextmanager
    async def _session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction, committed on success; database outages become errors."""
        maker = self._writer if write else self._reader
        try:
            async with maker() as session, session.begin():
                yield session
        except (OperationalError, InterfaceError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> UpstreamUnavailableError:
        log.warning("store_unavailable", backend=self.backend, error=str(exc).splitlines()[0])
        return UpstreamUnavailableError(
            "the database is unavailable; try again shortly", code="store_unavailable"
        )

    def _insert(self, table: Any) -> Any:
        """The backend's INSERT, which supports ``on_conflict_do_*``."""
        dialect = postgresql if self.backend == "postgresql" else sqlite
        return dialect.insert(table)

    async def _ensure_workspace(self, session: AsyncSession, workspace_id: str) -> None:
        """Create the workspace's row on its first use (the caller caches success)."""
        if workspace_id in self._workspaces:
            return
        await session.execute(
            self._insert(WorkspaceRow.__table__)
            .values(id=workspace_id, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
        )

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
