"""The backends every store contract suite runs on: the in-memory fake, SQLite and a
real PostgreSQL (one server for the whole session, see ``postgres.py``).

The conftest parametrises ``store_backend`` (all three) and ``database_url`` (the SQL
two), and ``open_store`` (a :class:`StoreOpener`) with which a suite's ``store`` fixture
opens its store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from cluster.store import default_database_url

MEMORY = "memory"
SQL_BACKENDS = ["sqlite", "postgresql"]
STORE_BACKENDS = [MEMORY, *SQL_BACKENDS]


class SqlStore(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...


M = TypeVar("M")
S = TypeVar("S", bound=SqlStore)


def sql_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new SQLite file in ``tmp_path``, or the session's PostgreSQL database (shared:
    tests keep apart by using fresh workspace ids)."""
    if backend == "sqlite":
        return default_database_url(tmp_path)
    return str(request.getfixturevalue("postgres_url"))


class StoreOpener:
    """Opens a suite's store on one backend (the ``open_store`` fixture); the SQL stores it
    opened are closed after the test."""

    def __init__(self, backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.backend = backend
        self._request = request
        self._tmp_path = tmp_path
        self._opened: list[SqlStore] = []

    async def __call__(self, memory: Callable[[], M], sql: Callable[[str], S]) -> M | S:
        """The in-memory fake, or the SQL store on this backend, started."""
        if self.backend == MEMORY:
            return memory()
        store = sql(sql_url(self.backend, self._request, self._tmp_path))
        await store.start()
        self._opened.append(store)
        return store

    async def close(self) -> None:
        for store in self._opened:
            await store.close()
