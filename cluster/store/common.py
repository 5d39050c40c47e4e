"""What every SQL store shares: an engine, its sessions, the migration, outages, workspace rows.

The stores (:class:`~cluster.store.sql_store.SqlConversationStore`,
:class:`~cluster.store.knowledge_store.SqlKnowledgeStore`) each open their own
engine on the same database URL; each migrates the one schema to head when it
starts, so either may start first or both at once (the migration takes a lock).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.conversation.records import utcnow
from agents.errors import UpstreamUnavailableError
from cluster.store.engine import create_store_engine, parse_database_url, sqlite_path, writer
from cluster.store.migrate import upgrade_to_head
from cluster.store.tables import WorkspaceRow

log = structlog.get_logger(__name__)


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
