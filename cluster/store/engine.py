"""The store's async SQLAlchemy engine: a SQLite file (embedded) or PostgreSQL.

SQLite runs in WAL mode with foreign keys on, and SQLAlchemy, not the sqlite3
driver, emits ``BEGIN``: writes use ``BEGIN IMMEDIATE`` so that two processes
writing the same file wait for each other instead of failing mid-transaction.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, Connection, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from agents.errors import InvalidInputError

BACKENDS = ("sqlite", "postgresql")
#: Execution option read by the SQLite ``begin`` hook: True for ``BEGIN IMMEDIATE``.
SQLITE_WRITE = "chorus_sqlite_write"
SQLITE_BUSY_TIMEOUT_S = 30.0


def default_database_url(data_dir: Path) -> str:
    """The embedded default: the SQLite file ``chorus.db`` in the data dir."""
    path = (data_dir.expanduser() / "chorus.db").resolve()
    return f"sqlite+aiosqlite:///{path}"


def parse_database_url(url: str) -> URL:
    """The URL parsed; InvalidInputError unless it is SQLite or PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError("the database URL is not valid", param="database_url") from exc
    if parsed.get_backend_name() not in BACKENDS:
        raise InvalidInputError(
            f"unsupported database '{parsed.get_backend_name()}': use "
            "sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
            param="database_url",
        )
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def create_store_engine(url: str) -> AsyncEngine:
    """An async engine for the URL; connects lazily."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(parsed, pool_pre_ping=True)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose transactions take the write lock up front."""
    return engine.execution_options(**{SQLITE_WRITE: True})


def _sqlite_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # SQLAlchemy emits BEGIN, see _sqlite_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(SQLITE_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
