"""Real local services for integration tests: a llama-server process (shared by every
test that needs the model), the embedder, PostgreSQL and Weaviate, and the backends of
the store contract suites."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from cluster.engines.engine_process import EngineProcess, launch_command
from cluster.engines.openai_engine import OpenAICompatibleEngine
from cluster.settings import EngineSettings
from cluster.store import default_database_url
from tests.integration.postgres import postgres_url  # noqa: F401 - a shared fixture
from tests.integration.stores import SQL_BACKENDS, STORE_BACKENDS, StoreOpener, sql_url
from tests.integration.weaviate import weaviate_server  # noqa: F401 - a shared fixture

#: Eight slots: the concurrency test streams eight requests at once.
TINY = EngineSettings(name="smollm2-135m-instruct", context_window=1024, parallel=8)


@pytest.fixture(scope="session")
async def llama_process() -> AsyncIterator[EngineProcess]:
    process = EngineProcess(
        TINY.name, lambda port: launch_command(TINY, port), startup_timeout_s=120
    )
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="session")
async def llama_engine(llama_process: EngineProcess) -> AsyncIterator[OpenAICompatibleEngine]:
    engine = OpenAICompatibleEngine(
        TINY, llama_process.base_url + "/v1", ready_check=llama_process.check
    )
    yield engine
    await engine.aclose()


@pytest.fixture
def ws() -> str:
    """A fresh workspace per test: the PostgreSQL database is shared by the session."""
    return f"ws_{uuid.uuid4().hex}"


@pytest.fixture
def other_ws() -> str:
    return f"ws_{uuid.uuid4().hex}"


@pytest.fixture(params=STORE_BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """Each store suite runs on the in-memory fake, SQLite and PostgreSQL."""
    return str(request.param)


@pytest.fixture(params=SQL_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQL database: a new SQLite file, or the session's PostgreSQL database."""
    return sql_url(str(request.param), request, tmp_path)


@pytest.fixture
async def open_store(
    store_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreOpener]:
    """Opens a suite's store on ``store_backend``: ``await open_store(InMemory..., Sql...)``."""
    opener = StoreOpener(store_backend, request, tmp_path)
    yield opener
    await opener.close()


@pytest.fixture(params=SQL_BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database no store has migrated yet: a new SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield default_database_url(tmp_path / "empty")
        return
    server = make_url(str(request.getfixturevalue("postgres_url")))
    name = f"chorus_{uuid.uuid4().hex}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()
