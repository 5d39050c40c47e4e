"""The contract of KnowledgeStoreProtocol: the in-memory fake, SQLite and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from agents.apps.spec import AppSpec
from agents.conversation.records import ConversationRecord
from agents.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from agents.knowledge.store import InMemoryKnowledgeStore, KnowledgeStoreProtocol
from cluster.store import SqlConversationStore, SqlKnowledgeStore
from cluster.store.engine import create_store_engine
from cluster.store.migrate import alembic_config, upgrade_to_head
from cluster.store.tables import Base
from tests.integration import postgres
from tests.integration.stores import StoreOpener

pytestmark = pytest.mark.integration

HEAD = "0008"
KNOWLEDGE_TABLES = {"knowledge_bases", "documents"}
#: A fixed past instant, so that "updated later" is strict whatever the clock's resolution.
PAST = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
async def store(open_store: StoreOpener) -> KnowledgeStoreProtocol:
    return await open_store(InMemoryKnowledgeStore, SqlKnowledgeStore)


def knowledge_base(ws: str, **fields: Any) -> KnowledgeBaseRecord:
    values: dict[str, Any] = {"id": f"kb_{uuid.uuid4().hex}", "workspace_id": ws, "name": "Docs"}
    return KnowledgeBaseRecord(**(values | fields))


def document(kb: KnowledgeBaseRecord, **fields: Any) -> DocumentRecord:
    values: dict[str, Any] = {
        "id": f"doc_{uuid.uuid4().hex}",
        "kb_id": kb.id,
        "workspace_id": kb.workspace_id,
        "name": "handbook.pdf",
        "content_type": "application/pdf",
    }
    return DocumentRecord(**(values | fields))


async def not_found(call: Callable[[], Awaitable[Any]]) -> str:
    """The code of the NotFoundError the call raises."""
    with pytest.raises(NotFoundError) as err:
        await call()
    return err.value.code


async def test_implements_the_protocol(store: KnowledgeStoreProtocol) -> None:
    assert isinstance(store, KnowledgeStoreProtocol)


async def test_kb_crud(store: KnowledgeStoreProtocol, ws: str) -> None:
    chunking = ChunkingSpec(
        mode="parent_child", max_tokens=128, overlap_tokens=16, parent_max_tokens=2048
    )
    first = knowledge_base(ws, name="Manuals 手册", description="How-tos", chunking=chunking)
    assert await store.create_kb(first) == first
    second = await store.create_kb(knowledge_base(ws, name="FAQ"))
    assert await store.get_kb(ws, first.id) == first
    assert (await store.get_kb(ws, second.id)).chunking == ChunkingSpec()
    assert [k.id for k in await store.list_kbs(ws)] == [first.id, second.id]

    await store.delete_kb(ws, first.id)
    assert await not_found(lambda: store.get_kb(ws, first.id)) == "kb_not_found"
    assert await not_found(lambda: store.delete_kb(ws, first.id)) == "kb_not_found"
    assert await store.list_kbs(ws) == [second]


async def test_lists_are_ordered_by_creation_then_id(
    store: KnowledgeStoreProtocol, ws: str
) -> None:
    later, earlier = PAST + timedelta(seconds=1), PAST
    # ids are global: the workspace suffix keeps them unique in the shared PostgreSQL database
    kbs = [
        knowledge_base(ws, id=f"kb_b_{ws}", created_at=later),
        knowledge_base(ws, id=f"kb_a_{ws}", created_at=later),
        knowledge_base(ws, id=f"kb_c_{ws}", created_at=earlier),
    ]
    for kb in kbs:
        await store.create_kb(kb)
    assert [k.id for k in await store.list_kbs(ws)] == [kbs[2].id, kbs[1].id, kbs[0].id]

    kb = kbs[0]
    docs = [
        document(kb, id=f"doc_b_{ws}", created_at=later),
        document(kb, id=f"doc_a_{ws}", created_at=later),
        document(kb, id=f"doc_c_{ws}", created_at=earlier),
    ]
    for doc in docs:
        await store.add_document(doc)
    await store.add_document(document(kbs[1]))  # another knowledge base's
    assert [d.id for d in await store.list_documents(ws, kb.id)] == [
        docs[2].id,
        docs[1].id,
        docs[0].id,
    ]
    # an update does not move a document in the list
    await store.update_document(docs[2].model_copy(update={"status": "parsing"}))
    assert [d.id for d in await store.list_documents(ws, kb.id)][0] == docs[2].id


async def test_document_goes_from_queued_to_ready(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    queued = document(kb, created_at=PAST, updated_at=PAST)
    assert await store.add_document(queued) == queued
    got = await store.get_document(ws, kb.id, queued.id)
    assert got == queued
    assert (got.status, got.progress, got.chunk_count, got.metadata) == ("queued", 0.0, 0, {})

    steps: list[dict[str, Any]] = [
        {
            "status": "parsing",
            "size_bytes": 5 * 2**30,  # beyond a 32-bit integer
            "checksum": "ab" * 32,
            "progress": 0.05,
        },
        {
            "status": "indexing",
            "progress": 0.1,
            "metadata": {"title": "Handbook — 手册", "author": "Zoë", "pages": "12"},
        },
        {"status": "ready", "progress": 1.0, "chunk_count": 42},
    ]
    current = got
    for changes in steps:
        before = current.updated_at
        updated = await store.update_document(current.model_copy(update=changes))
        assert updated.updated_at > before and updated.updated_at.tzinfo is not None
        assert updated.created_at == queued.created_at
        assert await store.get_document(ws, kb.id, queued.id) == updated
        current = updated
    ready = await store.get_document(ws, kb.id, queued.id)
    assert ready.model_dump(exclude={"updated_at"}) == queued.model_copy(
        update={key: value for changes in steps for key, value in changes.items()}
    ).model_dump(exclude={"updated_at"})
    assert await store.list_documents(ws, kb.id) == [ready]


async def test_failed_document_keeps_its_error(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    page = await store.add_document(
        document(
            kb,
            name="Pricing",
            source="url",
            url="https://example.com/pricing?a=1&b=%C3%A9",
            content_type="text/html; charset=utf-8",
        )
    )
    failed = await store.update_document(
        page.model_copy(
            update={
                "status": "failed",
                "error": "the page answered 404 — not found",
                "error_code": "fetch_failed",
                "progress": 1.0,
            }
        )
    )
    got = await store.get_document(ws, kb.id, page.id)
    assert got == failed
    assert (got.source, got.url, got.error_code) == ("url", page.url, "fetch_failed")

    retried = await store.update_document(
        got.model_copy(update={"status": "queued", "error": None, "error_code": None})
    )
    got = await store.get_document(ws, kb.id, page.id)
    assert got == retried and got.error is None and got.error_code is None


async def test_delete_document(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    gone = await store.add_document(document(kb))
    kept = await store.add_document(document(kb))
    await store.delete_document(ws, kb.id, gone.id)
    assert await store.list_documents(ws, kb.id) == [kept]
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.get_document(ws, kb.id, gone.id),
        lambda: store.delete_document(ws, kb.id, gone.id),
        lambda: store.update_document(gone.model_copy(update={"status": "ready"})),
    ]
    for call in calls:
        assert await not_found(call) == "document_not_found"
    assert await store.get_document(ws, kb.id, kept.id) == kept


async def test_delete_kb_removes_its_documents(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    other = await store.create_kb(knowledge_base(ws))
    docs = [await store.add_document(document(kb)) for _ in range(3)]
    kept = await store.add_document(document(other))

    await store.delete_kb(ws, kb.id)
    assert await not_found(lambda: store.list_documents(ws, kb.id)) == "kb_not_found"
    for doc in docs:
        assert await not_found(partial(store.get_document, ws, kb.id, doc.id)) == "kb_not_found"
    assert await store.list_documents(ws, other.id) == [kept]

    # a knowledge base made again with the same id starts empty: the documents are gone
    await store.create_kb(kb)
    assert await store.list_documents(ws, kb.id) == []
    for doc in docs:
        code = await not_found(partial(store.get_document, ws, kb.id, doc.id))
        assert code == "document_not_found"


async def test_unknown_ids_are_not_found(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    other = await store.create_kb(knowledge_base(ws))
    doc = await store.add_document(document(kb))
    missing_kb = knowledge_base(ws, id="kb_missing")
    calls: dict[str, list[Callable[[], Awaitable[Any]]]] = {
        "kb_not_found": [
            lambda: store.get_kb(ws, "kb_missing"),
            lambda: store.delete_kb(ws, "kb_missing"),
            lambda: store.add_document(document(missing_kb)),
            lambda: store.update_document(doc.model_copy(update={"kb_id": "kb_missing"})),
            lambda: store.get_document(ws, "kb_missing", doc.id),
            lambda: store.list_documents(ws, "kb_missing"),
            lambda: store.delete_document(ws, "kb_missing", doc.id),
        ],
        "document_not_found": [
            lambda: store.get_document(ws, kb.id, "doc_missing"),
            lambda: store.delete_document(ws, kb.id, "doc_missing"),
            lambda: store.update_document(document(kb, id="doc_missing")),
            # a document is found only in its own knowledge base
            lambda: store.get_document(ws, other.id, doc.id),
            lambda: store.delete_document(ws, other.id, doc.id),
            lambda: store.update_document(doc.model_copy(update={"kb_id": other.id})),
        ],
    }
    for code, calls_for_code in calls.items():
        for call in calls_for_code:
            assert await not_found(call) == code
    assert await store.list_documents(ws, kb.id) == [doc]
    assert await store.list_documents(ws, other.id) == []


async def test_another_workspace_sees_nothing(
    store: KnowledgeStoreProtocol, ws: str, other_ws: str
) -> None:
    kb = await store.create_kb(knowledge_base(ws, name="Private"))
    doc = await store.add_document(document(kb))
    await store.create_kb(knowledge_base(other_ws, name="Theirs"))

    assert [k.name for k in await store.list_kbs(other_ws)] == ["Theirs"]
    foreign_doc = doc.model_copy(update={"workspace_id": other_ws, "status": "ready"})
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.get_kb(other_ws, kb.id),
        lambda: store.delete_kb(other_ws, kb.id),
        lambda: store.add_document(document(kb, workspace_id=other_ws)),
        lambda: store.update_document(foreign_doc),
        lambda: store.get_document(other_ws, kb.id, doc.id),
        lambda: store.list_documents(other_ws, kb.id),
        lambda: store.delete_document(other_ws, kb.id, doc.id),
    ]
    for call in calls:
        assert await not_found(call) == "kb_not_found"

    assert await store.get_kb(ws, kb.id) == kb
    assert await store.list_documents(ws, kb.id) == [doc]
    assert [k.id for k in await store.list_kbs(ws)] == [kb.id]


async def test_timestamps_come_back_aware_and_equal(store: KnowledgeStoreProtocol, ws: str) -> None:
    shanghai = timezone(timedelta(hours=8))
    when = datetime(2025, 3, 4, 20, 30, 15, 123456, tzinfo=shanghai)
    kb = await store.create_kb(knowledge_base(ws, created_at=when, updated_at=when))
    doc = await store.add_document(document(kb, created_at=when, updated_at=when))
    got_kb = await store.get_kb(ws, kb.id)
    got_doc = await store.get_document(ws, kb.id, doc.id)
    for got in (got_kb, got_doc):
        assert got.created_at == when and got.updated_at == when
        assert got.created_at.utcoffset() is not None and got.updated_at.utcoffset() is not None
    fresh = await store.create_kb(knowledge_base(ws))
    assert (await store.get_kb(ws, fresh.id)).created_at.tzinfo is not None


async def test_concurrent_writes_all_land(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    docs = await asyncio.gather(*(store.add_document(document(kb)) for _ in range(6)))
    await asyncio.gather(
        *(
            store.update_document(d.model_copy(update={"status": "ready", "chunk_count": i}))
            for i, d in enumerate(docs)
        )
    )
    listed = {d.id: d for d in await store.list_documents(ws, kb.id)}
    assert sorted(listed) == sorted(d.id for d in docs)
    assert {listed[d.id].chunk_count for d in docs} == set(range(6))
    assert all(d.status == "ready" for d in listed.values())


async def test_writes_racing_delete_kb_are_done_or_not_found(
    store: KnowledgeStoreProtocol, ws: str
) -> None:
    kb = await store.create_kb(knowledge_base(ws))
    docs = [await store.add_document(document(kb)) for _ in range(3)]
    results = await asyncio.gather(
        *(store.add_document(document(kb)) for _ in range(3)),
        store.delete_kb(ws, kb.id),
        *(store.update_document(d.model_copy(update={"status": "ready"})) for d in docs),
        *(store.add_document(document(kb)) for _ in range(3)),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(e, NotFoundError) for e in errors), errors
    assert await not_found(lambda: store.list_documents(ws, kb.id)) == "kb_not_found"
    await store.create_kb(kb)
    assert await store.list_documents(ws, kb.id) == []


async def test_repeated_id_is_refused(store: KnowledgeStoreProtocol, ws: str) -> None:
    kb = await store.create_kb(knowledge_base(ws, name="first"))
    doc = await store.add_document(document(kb, name="first"))
    with pytest.raises(InvalidInputError):
        await store.create_kb(kb.model_copy(update={"name": "second"}))
    with pytest.raises(InvalidInputError):
        await store.add_document(doc.model_copy(update={"name": "second"}))
    assert (await store.get_kb(ws, kb.id)).name == "first"
    assert (await store.get_document(ws, kb.id, doc.id)).name == "first"


async def test_data_survives_reopening(database_url: str, ws: str) -> None:
    first = SqlKnowledgeStore(database_url)
    await first.start()
    kb = await first.create_kb(knowledge_base(ws, chunking=ChunkingSpec(max_tokens=512)))
    doc = await first.add_document(document(kb, metadata={"lang": "fr"}))
    doc = await first.update_document(
        doc.model_copy(update={"status": "ready", "progress": 1.0, "chunk_count": 7})
    )
    failed = await first.add_document(document(kb, status="failed", error="x", error_code="y"))
    await first.close()

    reopened = SqlKnowledgeStore(database_url)
    await reopened.start()
    try:
        assert await reopened.get_kb(ws, kb.id) == kb
        assert await reopened.list_documents(ws, kb.id) == sorted(
            [doc, failed], key=lambda d: (d.created_at, d.id)
        )
    finally:
        await reopened.close()


async def _revision(url: str) -> str | None:
    engine = create_store_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def _write_to_both(
    knowledge: SqlKnowledgeStore, conversations: SqlConversationStore, ws: str
) -> tuple[KnowledgeBaseRecord, ConversationRecord]:
    """Both stores create the workspace's row on first use; whichever comes second must not fail."""
    kb, app = await asyncio.gather(
        knowledge.create_kb(knowledge_base(ws)), conversations.create_app(ws, AppSpec(name="a"))
    )
    conv = await conversations.create_conversation(
        ConversationRecord(id=f"conv_{uuid.uuid4().hex}", workspace_id=ws, app_id=app.id)
    )
    return kb, conv


async def test_both_stores_start_on_one_database_one_after_the_other(
    empty_database_url: str, ws: str
) -> None:
    knowledge = SqlKnowledgeStore(empty_database_url)
    await knowledge.start()  # the knowledge store migrates the empty database
    conversations = SqlConversationStore(empty_database_url)
    await conversations.start()  # and the conversation store finds it at head
    kb, conv = await _write_to_both(knowledge, conversations, ws)
    await knowledge.close()
    await conversations.close()
    assert await _revision(empty_database_url) == HEAD

    conversations = SqlConversationStore(empty_database_url)
    await conversations.start()
    knowledge = SqlKnowledgeStore(empty_database_url)
    await knowledge.start()
    try:
        assert await knowledge.get_kb(ws, kb.id) == kb
        assert await conversations.get_conversation(ws, conv.id) == conv
    finally:
        await knowledge.close()
        await conversations.close()


async def test_both_stores_start_on_one_database_at_once(empty_database_url: str, ws: str) -> None:
    knowledge = SqlKnowledgeStore(empty_database_url)
    conversations = SqlConversationStore(empty_database_url)
    try:
        await asyncio.gather(knowledge.start(), conversations.start())
        kb, conv = await _write_to_both(knowledge, conversations, ws)
        assert await knowledge.list_kbs(ws) == [kb]
        assert await conversations.get_conversation(ws, conv.id) == conv
    finally:
        await asyncio.gather(knowledge.close(), conversations.close())
    assert await _revision(empty_database_url) == HEAD


def _schema_diff(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _downgrade(connection: Connection, revision: str) -> set[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
    return set(inspect(connection).get_table_names())


async def test_migration_creates_and_drops_exactly_the_tables(empty_database_url: str) -> None:
    store = SqlKnowledgeStore(empty_database_url)
    await store.start()
    await store.close()
    engine = create_store_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
        async with engine.begin() as conn:
            tables = await conn.run_sync(_downgrade, "0001")
        assert not tables & KNOWLEDGE_TABLES and {"workspaces", "apps"} <= tables
        assert await upgrade_to_head(engine) == HEAD
        async with engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
    finally:
        await engine.dispose()


async def test_unreachable_database_is_unavailable() -> None:
    port = postgres.free_port()
    store = SqlKnowledgeStore(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none")
    with pytest.raises(UpstreamUnavailableError) as start:
        await store.start()
    assert start.value.code == "store_unavailable"
    with pytest.raises(UpstreamUnavailableError) as read:
        await store.list_kbs("ws")
    assert read.value.code == "store_unavailable"
    await store.close()
