"""The contract of ToolProviderStoreProtocol: the in-memory fake, SQLite and a real PostgreSQL.

The store keeps a provider's secret as the caller sealed it, beside the record and never
in it; only ``get_secret`` and ``list_secrets`` give it back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet

from agents.errors import InvalidInputError, NotFoundError
from agents.tools.openapi import ToolAuth
from agents.tools.records import ToolProviderRecord
from agents.tools.secret_box import SecretBox
from agents.tools.store import InMemoryToolProviderStore, ToolProviderStoreProtocol
from cluster.store import SqlToolProviderStore
from cluster.store.tables.tools import ToolProviderRow
from tests.integration.stores import StoreOpener

pytestmark = pytest.mark.integration

SECRET = "sk-live-do-not-show"
DOCUMENT = {
    "openapi": "3.0.0",
    "info": {"title": "Inventory", "version": "1"},
    "paths": {"/items/{id}": {"get": {"operationId": "getItem"}}},
}
PAST = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
BOX = SecretBox(Fernet.generate_key())


@pytest.fixture
async def store(open_store: StoreOpener) -> ToolProviderStoreProtocol:
    return await open_store(InMemoryToolProviderStore, SqlToolProviderStore)


def provider(ws: str, **fields: Any) -> ToolProviderRecord:
    values: dict[str, Any] = {
        "workspace_id": ws,
        "name": "inventory",
        "document": DOCUMENT,
        "spec_url": "https://api.example/openapi.json",
        "base_url": "https://api.example/v1",
        "auth": ToolAuth(type="api_key_header", name="X-Api-Key"),
        "tool_names": {"GET /items/{id}": "getItem"},
    }
    return ToolProviderRecord(**(values | fields))


def sealed(secret: str = SECRET) -> str:
    """The secret as the tool service hands it to the store: encrypted."""
    return BOX.encrypt(secret)


async def not_found(store: ToolProviderStoreProtocol, ws: str, provider_id: str) -> NotFoundError:
    with pytest.raises(NotFoundError) as err:
        await store.get_provider(ws, provider_id)
    return err.value


async def test_implements_the_protocol(store: ToolProviderStoreProtocol) -> None:
    assert isinstance(store, ToolProviderStoreProtocol)


async def test_create_get_list_delete(store: ToolProviderStoreProtocol, ws: str) -> None:
    first = await store.create_provider(provider(ws, created_at=PAST, updated_at=PAST))
    second = await store.create_provider(provider(ws, name="weather", document={"paths": {}}))
    assert await store.get_provider(ws, first.id) == first
    assert await store.get_provider(ws, second.id) == second
    assert (await store.get_provider(ws, first.id)).created_at == PAST
    assert [p.id for p in await store.list_providers(ws)] == [first.id, second.id]

    await store.delete_provider(ws, first.id)
    err = await not_found(store, ws, first.id)
    assert (err.code, err.param) == ("tool_provider_not_found", "provider_id")
    assert err.message == f"tool provider {first.id} not found"
    with pytest.raises(NotFoundError):
        await store.delete_provider(ws, first.id)
    with pytest.raises(NotFoundError):
        await store.get_secret(ws, first.id)
    assert [p.id for p in await store.list_providers(ws)] == [second.id]
    assert await store.list_secrets(ws) == {second.id: None}


async def test_a_repeated_id_is_refused(store: ToolProviderStoreProtocol, ws: str) -> None:
    record = await store.create_provider(provider(ws))
    with pytest.raises(InvalidInputError, match="exists"):
        await store.create_provider(provider(ws, id=record.id, name="again"))
    assert (await store.get_provider(ws, record.id)).name == "inventory"


async def test_another_workspace_sees_nothing(
    store: ToolProviderStoreProtocol, ws: str, other_ws: str
) -> None:
    record = await store.create_provider(provider(ws), sealed())
    err = await not_found(store, other_ws, record.id)
    assert (err.code, err.param) == ("tool_provider_not_found", "provider_id")
    with pytest.raises(NotFoundError):
        await store.get_secret(other_ws, record.id)
    with pytest.raises(NotFoundError):
        await store.delete_provider(other_ws, record.id)
    assert await store.list_providers(other_ws) == []
    assert await store.list_secrets(other_ws) == {}
    assert await store.get_provider(ws, record.id) == record  # still there


async def test_the_secret_is_kept_beside_the_record(
    store: ToolProviderStoreProtocol, ws: str
) -> None:
    token = sealed()
    with_secret = await store.create_provider(provider(ws), token)
    without = await store.create_provider(provider(ws, name="open"))
    assert with_secret.has_secret and not without.has_secret
    stored = await store.get_provider(ws, with_secret.id)
    assert stored.has_secret and stored == with_secret
    for record in (with_secret, stored, *await store.list_providers(ws)):
        dumped = record.model_dump_json()
        assert token not in dumped and SECRET not in dumped
    assert await store.get_secret(ws, with_secret.id) == token
    assert await store.get_secret(ws, without.id) is None
    assert await store.list_secrets(ws) == {with_secret.id: token, without.id: None}


async def test_has_secret_comes_from_the_store_not_the_caller(
    store: ToolProviderStoreProtocol, ws: str
) -> None:
    claimed = await store.create_provider(provider(ws, has_secret=True))
    assert not claimed.has_secret
    assert not (await store.get_provider(ws, claimed.id)).has_secret


async def test_timestamps_come_back_aware_and_equal(
    store: ToolProviderStoreProtocol, ws: str
) -> None:
    later = PAST + timedelta(hours=1)
    record = await store.create_provider(provider(ws, created_at=PAST, updated_at=later))
    got = await store.get_provider(ws, record.id)
    assert (got.created_at, got.updated_at) == (PAST, later)
    assert got.created_at.tzinfo is not None


async def test_the_row_holds_the_secret_only_sealed(database_url: str, ws: str) -> None:
    store = SqlToolProviderStore(database_url)
    await store.start()
    try:
        record = await store.create_provider(provider(ws), sealed())
        async with store.database.session() as session:
            row = await session.get(ToolProviderRow, record.id)
    finally:
        await store.close()
    assert row is not None and row.secret_encrypted and SECRET not in row.secret_encrypted
    assert BOX.decrypt(row.secret_encrypted) == SECRET
    assert SECRET not in str([row.name, row.kind, row.spec, row.auth])
    assert row.spec["document"] == DOCUMENT and row.auth["name"] == "X-Api-Key"
