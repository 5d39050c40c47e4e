"""Schema migrations: Alembic, configured in code, run to head by the store's ``start()``.

The scripts live in the ``migrations`` folder of this package. To write the next
one, point :func:`alembic_config` at a database upgraded to head and run
``alembic.command.revision(config, message=..., autogenerate=True)``; then read
and correct what it generated.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock held while migrating (concurrent starts wait).
_PG_LOCK_KEY = 7_263_511_902


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for this package's migrations, optionally with a database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_to_head(engine: AsyncEngine) -> str | None:
    """Migrate the database to the newest revision, in one transaction; returns it."""
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade)


def _upgrade(conn: Connection) -> str | None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    before = MigrationContext.configure(conn).get_current_revision()
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
    after = MigrationContext.configure(conn).get_current_revision()
    if after != before:
        log.info("store_migrated", before=before, after=after)
    return after
