"""SqlUsageStore: daily tokens by subject, added by concurrent writers, on SQLite and a
real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from cluster.store.usage_store import SqlUsageStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def usage(database_url: str) -> AsyncIterator[SqlUsageStore]:
    store = SqlUsageStore(database_url)
    await store.start()
    yield store
    await store.close()


async def test_additions_add_up_by_subject_and_day(usage: SqlUsageStore) -> None:
    key, app = f"key:{uuid.uuid4().hex}", f"app:{uuid.uuid4().hex}"
    assert await usage.used(key, "2026-12-05") == 0
    await asyncio.gather(*(usage.add([key, app], "2026-12-05", 10) for _ in range(8)))
    await usage.add([key], "2026-12-06", 3)
    await usage.add([key], "2026-12-06", 0)  # nothing to count
    assert await usage.used(key, "2026-12-05") == 80
    assert await usage.used(app, "2026-12-05") == 80
    assert await usage.used(key, "2026-12-06") == 3
    assert await usage.used(app, "2026-12-06") == 0
