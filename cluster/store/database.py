"""One database per process: its engine and pool, its sessions, its schema, its outages.

Every SQL store of a process is built on the same :class:`Database` (one engine, one
connection pool), so the schema is migrated once and a workspace's row is created
once, whichever store writes first. ``start()`` may be called by every store, and
concurrently: the first call migrates, the others wait for it. A database
that cannot be reached, or is locked too long, is :class:`UpstreamUnavailableError`
(code ``store_unavailable``) wherever it shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents import error_codes
from agents.errors import UpstreamUnavailableError
from agents.ids import utcnow
from cluster.store.engine import create_store_engine, parse_database_url, sqlite_path, writer
from cluster.store.migrate import upgrade_to_head
from cluster.store.tables import Base, WorkspaceRow

log = structlog.get_logger(__name__)
#: What a database outage raises from the drivers (and the file system, for SQLite).
OUTAGES = (OperationalError, InterfaceError, OSError)


class Database:
    """A SQLite file or a PostgreSQL database, shared by every store of the process."""

    def __init__(self, url: str) -> None:
        self.url = parse_database_url(url)
        self.engine = create_store_engine(url)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(writer(self.engine), expire_on_commit=False)
        self._started = False
        self._starting = asyncio.Lock()
        #: Workspaces whose row is known to exist (created or seen by this process).
        self._workspaces: set[str] = set()

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    async def start(self) -> None:
        """Create the SQLite file's folder if needed and migrate the schema to head, once;
        concurrent and later calls wait for, or return after, the first that succeeds."""
        async with self._starting:
            if self._started:
                return
            path = sqlite_path(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            try:
                revision = await upgrade_to_head(writer(self.engine))
            except OUTAGES as exc:
                raise self._unavailable(exc) from exc
            self._started = True
        log.info(
            "store_started",
            backend=self.backend,
            url=self.url.render_as_string(hide_password=True),
            revision=revision,
        )

    async def close(self) -> None:
        """Close the pool's connections (a later use opens new ones)."""
        await self.engine.dispose()
        log.info("store_closed", backend=self.backend)

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction, committed on success; ``write`` takes SQLite's write lock up
        front (``BEGIN IMMEDIATE``). Database outages become UpstreamUnavailableError."""
        maker = self._writer if write else self._reader
        try:
            async with maker() as session, session.begin():
                yield session
        except OUTAGES as exc:
            raise self._unavailable(exc) from exc

    @asynccontextmanager
    async def workspace_session(self, workspace_id: str) -> AsyncIterator[AsyncSession]:
        """A write transaction for a record the workspace will own: the workspace's row
        is created first, on its first use by this process."""
        async with self.session(write=True) as session:
            if workspace_id not in self._workspaces:
                await session.execute(
                    self.insert(WorkspaceRow)
                    .values(id=workspace_id, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["id"])
                )
            yield session
        self._workspaces.add(workspace_id)

    def insert(self, row_class: type[Base]) -> postgresql.Insert | sqlite.Insert:
        """The backend's INSERT into the row class's table, which has ``on_conflict_do_*``."""
        if self.backend == "postgresql":
            return postgresql.insert(row_class)
        return sqlite.insert(row_class)

    def _unavailable(self, exc: Exception) -> UpstreamUnavailableError:
        log.warning("store_unavailable", backend=self.backend, error=str(exc).splitlines()[0])
        return UpstreamUnavailableError(
            "the database is unavailable; try again shortly", code=error_codes.STORE_UNAVAILABLE
        )
