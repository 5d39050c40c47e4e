"""The contract of ConversationStoreProtocol: the in-memory fake, SQLite and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from agents.apps.spec import AppSpec, PromptVariable
from agents.conversation.records import (
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
    TurnUsage,
)
from agents.conversation.store import ConversationStoreProtocol, InMemoryConversationStore
from agents.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError
from agents.limits import Limits
from cluster.store import SqlConversationStore, default_database_url
from cluster.store.engine import create_store_engine
from cluster.store.tables import Base
from tests.integration import postgres
from tests.integration.stores import StoreOpener

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(open_store: StoreOpener) -> ConversationStoreProtocol:
    return await open_store(InMemoryConversationStore, SqlConversationStore)


def conversation(ws: str, app_id: str, **fields: Any) -> ConversationRecord:
    return ConversationRecord(
        id=f"conv_{uuid.uuid4().hex}", workspace_id=ws, app_id=app_id, **fields
    )


def message(conv: ConversationRecord, seq: int, **fields: Any) -> MessageRecord:
    values: dict[str, Any] = {
        "id": f"msg_{uuid.uuid4().hex}",
        "conversation_id": conv.id,
        "workspace_id": conv.workspace_id,
        "seq": seq,
        "turn_id": f"turn_{seq // 2}",
        "role": "user" if seq % 2 == 0 else "assistant",
        "content": f"message {seq}",
    }
    return MessageRecord(**(values | fields))


async def new_conversation(store: ConversationStoreProtocol, ws: str) -> ConversationRecord:
    app = await store.create_app(ws, AppSpec(name="chat"))
    return await store.create_conversation(conversation(ws, app.id))


async def test_implements_the_protocol(store: ConversationStoreProtocol) -> None:
    assert isinstance(store, ConversationStoreProtocol)


async def test_app_crud(store: ConversationStoreProtocol, ws: str) -> None:
    spec = AppSpec(
        name="first", system_prompt="Be {{tone}}.", variables=[PromptVariable(name="tone")]
    )
    first = await store.create_app(ws, spec)
    second = await store.create_app(ws, AppSpec(name="second"))
    assert first.id != second.id and first.workspace_id == ws
    assert first.published_version is None
    assert await store.get_app(ws, first.id) == first
    assert [a.id for a in await store.list_apps(ws)] == [first.id, second.id]

    updated = await store.update_draft(ws, first.id, AppSpec(name="renamed", description="new"))
    assert updated.draft.name == "renamed" and updated.updated_at >= first.updated_at
    assert (await store.get_app(ws, first.id)).draft == AppSpec(name="renamed", description="new")
    assert (await store.get_app(ws, first.id)).created_at == first.created_at

    kept = await store.create_conversation(conversation(ws, first.id))
    await store.delete_app(ws, first.id)
    # as in the fake, an app's conversations outlive it (history stays readable)
    assert await store.get_conversation(ws, kept.id) == kept
    with pytest.raises(NotFoundError) as err:
        await store.get_app(ws, first.id)
    assert err.value.code == "app_not_found"
    with pytest.raises(NotFoundError) as again:
        await store.delete_app(ws, first.id)
    assert again.value.code == "app_not_found"
    assert [a.id for a in await store.list_apps(ws)] == [second.id]


async def test_access_and_finding_an_app_by_its_id_alone(
    store: ConversationStoreProtocol, ws: str, other_ws: str
) -> None:
    app = await store.create_app(ws, AppSpec(name="site"))
    assert app.access == "private"
    opened = await store.set_access(ws, app.id, "public")
    assert opened.access == "public" and (await store.get_app(ws, app.id)).access == "public"
    assert await store.find_app(app.id) == opened
    assert await store.find_app("app_missing") is None
    with pytest.raises(NotFoundError):
        await store.set_access(other_ws, app.id, "private")
    assert (await store.get_app(ws, app.id)).access == "public"
    limited = await store.set_limits(
        ws, app.id, Limits(requests_per_minute=5), Limits(tokens_per_day=100)
    )
    assert limited.limits == Limits(requests_per_minute=5)
    assert (await store.get_app(ws, app.id)).end_user_limits == Limits(tokens_per_day=100)
    cleared = await store.set_limits(ws, app.id, None, None)
    assert cleared.limits is None and (await store.find_app(app.id)) == cleared


async def test_conversations_listed_by_their_end_user(
    store: ConversationStoreProtocol, ws: str
) -> None:
    app = await store.create_app(ws, AppSpec(name="chat"))
    alice = await store.create_conversation(conversation(ws, app.id, user_id="anon-alice"))
    bob = await store.create_conversation(conversation(ws, app.id, user_id="anon-bob"))
    assert [c.id for c in await store.list_conversations(ws, user_id="anon-alice")] == [alice.id]
    assert [c.id for c in await store.list_conversations(ws, app.id, user_id="anon-bob")] == [
        bob.id
    ]
    assert {c.id for c in await store.list_conversations(ws)} == {alice.id, bob.id}


async def test_publish_twice_makes_versions_one_and_two(
    store: ConversationStoreProtocol, ws: str
) -> None:
    app = await store.create_app(ws, AppSpec(name="v1"))
    with pytest.raises(NotFoundError) as never:
        await store.get_version(ws, app.id)
    assert never.value.code == "version_not_found"

    v1 = await store.publish(ws, app.id)
    await store.update_draft(ws, app.id, AppSpec(name="v2"))
    v2 = await store.publish(ws, app.id)
    assert (v1.version, v1.spec.name, v2.version, v2.spec.name) == (1, "v1", 2, "v2")
    assert (await store.get_app(ws, app.id)).published_version == 2

    assert await store.get_version(ws, app.id) == v2
    assert await store.get_version(ws, app.id, 1) == v1
    assert await store.get_version(ws, app.id, 2) == v2
    with pytest.raises(NotFoundError) as missing:
        await store.get_version(ws, app.id, 3)
    assert missing.value.code == "version_not_found"
    with pytest.raises(NotFoundError) as no_app:
        await store.get_version(ws, "app_missing")
    assert no_app.value.code == "app_not_found"


async def test_concurrent_publishes_get_distinct_versions(
    store: ConversationStoreProtocol, ws: str
) -> None:
    app = await store.create_app(ws, AppSpec(name="busy"))
    versions = await asyncio.gather(*(store.publish(ws, app.id) for _ in range(5)))
    assert sorted(v.version for v in versions) == [1, 2, 3, 4, 5]
    assert (await store.get_app(ws, app.id)).published_version == 5


async def test_another_workspace_sees_nothing(
    store: ConversationStoreProtocol, ws: str, other_ws: str
) -> None:
    app = await store.create_app(ws, AppSpec(name="private"))
    await store.publish(ws, app.id)
    conv = await store.create_conversation(conversation(ws, app.id))
    msg = await store.add_message(message(conv, 0))
    await store.save_summary(
        SummaryRecord(conversation_id=conv.id, workspace_id=ws, text="s", covers_until_seq=0)
    )
    await store.add_prompt(
        PromptRecord(turn_id="t", conversation_id=conv.id, workspace_id=ws, messages=[], model="m")
    )

    assert await store.list_apps(other_ws) == []
    assert await store.list_conversations(other_ws) == []
    assert await store.list_conversations(other_ws, app_id=app.id) == []
    foreign_conv = conv.model_copy(update={"workspace_id": other_ws})
    foreign_msg = msg.model_copy(update={"workspace_id": other_ws})
    calls: dict[str, list[Callable[[], Awaitable[Any]]]] = {
        "app_not_found": [
            lambda: store.get_app(other_ws, app.id),
            lambda: store.update_draft(other_ws, app.id, AppSpec(name="stolen")),
            lambda: store.delete_app(other_ws, app.id),
            lambda: store.publish(other_ws, app.id),
            lambda: store.get_version(other_ws, app.id),
            lambda: store.get_version(other_ws, app.id, 1),
            lambda: store.create_conversation(conversation(other_ws, app.id)),
        ],
        "conversation_not_found": [
            lambda: store.get_conversation(other_ws, conv.id),
            lambda: store.rename_conversation(other_ws, conv.id, "stolen"),
            lambda: store.delete_conversation(other_ws, conv.id),
            lambda: store.add_message(message(foreign_conv, 1)),
            lambda: store.update_message(foreign_msg.model_copy(update={"content": "stolen"})),
            lambda: store.list_messages(other_ws, conv.id),
            lambda: store.save_summary(
                SummaryRecord(
                    conversation_id=conv.id, workspace_id=other_ws, text="x", covers_until_seq=0
                )
            ),
            lambda: store.get_summary(other_ws, conv.id),
            lambda: store.add_prompt(
                PromptRecord(
                    turn_id="t",
                    conversation_id=conv.id,
                    workspace_id=other_ws,
                    messages=[],
                    model="",
                )
            ),
            lambda: store.list_prompts(other_ws, conv.id),
        ],
    }
    for code, calls_for_code in calls.items():
        for call in calls_for_code:
            with pytest.raises(NotFoundError) as err:
                await call()
            assert err.value.code == code

    assert (await store.get_app(ws, app.id)).draft.name == "private"
    assert (await store.get_conversation(ws, conv.id)).title == ""
    assert await store.list_messages(ws, conv.id) == [msg]
    assert len(await store.list_prompts(ws, conv.id)) == 1


async def test_conversation_lifecycle(store: ConversationStoreProtocol, ws: str) -> None:
    app = await store.create_app(ws, AppSpec(name="chat"))
    other_app = await store.create_app(ws, AppSpec(name="other"))
    record = conversation(ws, app.id, app_version=None, inputs={"tone": "dry"}, user_id="u1")
    assert await store.create_conversation(record) == record
    assert await store.get_conversation(ws, record.id) == record
    with pytest.raises(InvalidInputError):
        await store.create_conversation(record)
    with pytest.raises(NotFoundError) as no_app:
        await store.create_conversation(conversation(ws, "app_missing"))
    assert no_app.value.code == "app_not_found"

    second = await store.create_conversation(conversation(ws, app.id))
    third = await store.create_conversation(conversation(ws, app.id))
    elsewhere = await store.create_conversation(conversation(ws, other_app.id))
    ids = [c.id for c in await store.list_conversations(ws, app_id=app.id)]
    assert ids == [third.id, second.id, record.id]  # newest activity first
    assert len(await store.list_conversations(ws)) == 4
    assert [c.id for c in await store.list_conversations(ws, app_id=other_app.id)] == [elsewhere.id]
    assert len(await store.list_conversations(ws, limit=2)) == 2

    await store.add_message(message(record, 0))  # a message makes it the most recent
    renamed = await store.rename_conversation(ws, second.id, "Renamed")
    assert renamed.title == "Renamed" and renamed.updated_at > second.updated_at
    assert (await store.get_conversation(ws, second.id)).title == "Renamed"
    ids = [c.id for c in await store.list_conversations(ws, app_id=app.id)]
    assert ids == [second.id, record.id, third.id]

    await store.delete_conversation(ws, second.id)
    gone: list[Callable[[], Awaitable[Any]]] = [
        lambda: store.get_conversation(ws, second.id),
        lambda: store.rename_conversation(ws, second.id, "again"),
        lambda: store.delete_conversation(ws, second.id),
        lambda: store.list_messages(ws, second.id),
        lambda: store.add_message(message(second, 0)),
    ]
    for call in gone:
        with pytest.raises(NotFoundError) as err:
            await call()
        assert err.value.code == "conversation_not_found"
    assert second.id not in [c.id for c in await store.list_conversations(ws)]
    with pytest.raises(InvalidInputError):  # a deleted conversation's id stays taken
        await store.create_conversation(second)


async def test_messages_are_ordered_by_seq_and_updatable(
    store: ConversationStoreProtocol, ws: str
) -> None:
    conv = await new_conversation(store, ws)
    assert await store.list_messages(ws, conv.id) == []
    answer = message(
        conv,
        1,
        status="pending",
        usage=TurnUsage(prompt_tokens=12, completion_tokens=3, latency_ms=41.5, model="m"),
        suggestions=["Why?", "How?"],
    )
    added = [
        await store.add_message(message(conv, 2, content="再见 👋")),
        await store.add_message(message(conv, 0)),
        await store.add_message(answer),
    ]
    assert added[2] == answer
    listed = await store.list_messages(ws, conv.id)
    assert [m.seq for m in listed] == [0, 1, 2]
    assert listed[1] == answer and listed[2].content == "再见 👋"

    failed = answer.model_copy(
        update={
            "content": "partial",
            "status": "failed",
            "error": {"code": "timeout", "message": "too slow"},
            "usage": None,
        }
    )
    assert await store.update_message(failed) == failed
    assert (await store.list_messages(ws, conv.id))[1] == failed

    with pytest.raises(NotFoundError) as missing:
        await store.update_message(message(conv, 7))
    assert missing.value.code == "message_not_found"
    with pytest.raises(NotFoundError) as no_conv:
        await store.add_message(message(conv.model_copy(update={"id": "conv_missing"}), 0))
    assert no_conv.value.code == "conversation_not_found"


async def test_duplicate_seq_is_refused(store: ConversationStoreProtocol, ws: str) -> None:
    conv = await new_conversation(store, ws)
    first = await store.add_message(message(conv, 0, content="first"))
    with pytest.raises(InvalidInputError) as err:
        await store.add_message(message(conv, 0, content="second"))
    assert err.value.code == "duplicate_message"
    assert await store.list_messages(ws, conv.id) == [first]
    await store.add_message(message(conv, 1))  # the store still works after the refusal
    assert [m.seq for m in await store.list_messages(ws, conv.id)] == [0, 1]


async def test_concurrent_writers_of_one_seq_all_but_one_refused(
    store: ConversationStoreProtocol, ws: str
) -> None:
    conv = await new_conversation(store, ws)
    results = await asyncio.gather(
        *(store.add_message(message(conv, 0, content=str(i))) for i in range(4)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, InvalidInputError)]
    assert len(refused) == 3 and all(r.code == "duplicate_message" for r in refused)
    assert len(await store.list_messages(ws, conv.id)) == 1


async def test_messages_added_together_are_stored_all_or_none(
    store: ConversationStoreProtocol, ws: str
) -> None:
    conv = await new_conversation(store, ws)
    question, answer = message(conv, 0), message(conv, 1, status="pending")
    await store.add_messages([question, answer])
    assert await store.list_messages(ws, conv.id) == [question, answer]
    with pytest.raises(InvalidInputError) as taken:  # the second one's seq is taken
        await store.add_messages([message(conv, 2), message(conv, 1)])
    assert taken.value.code == "duplicate_message"
    with pytest.raises(InvalidInputError):  # one seq twice in one call
        await store.add_messages([message(conv, 2), message(conv, 2)])
    with pytest.raises(NotFoundError):  # the second one's conversation does not exist
        await store.add_messages(
            [message(conv, 2), message(conv.model_copy(update={"id": "conv_missing"}), 3)]
        )
    assert await store.list_messages(ws, conv.id) == [question, answer]


async def test_an_answer_is_updated_with_its_prompts_or_not_at_all(
    store: ConversationStoreProtocol, ws: str
) -> None:
    conv = await new_conversation(store, ws)
    answer = message(conv, 1, status="pending")
    await store.add_messages([message(conv, 0), answer])
    prompt = PromptRecord(
        turn_id="turn_0", conversation_id=conv.id, workspace_id=ws,
        messages=[{"role": "user", "content": "message 0"}], model="m",
    )  # fmt: skip
    done = answer.model_copy(update={"status": "complete", "usage": TurnUsage(model="m")})
    assert await store.update_message(done, [prompt]) == done
    assert (await store.list_messages(ws, conv.id))[1] == done
    assert await store.list_prompts(ws, conv.id) == [prompt]
    with pytest.raises(NotFoundError):  # no such message: its prompt is not kept either
        await store.update_message(message(conv, 9), [prompt])
    assert await store.list_prompts(ws, conv.id) == [prompt]


async def test_summary_saved_overwritten_and_read(
    store: ConversationStoreProtocol, ws: str
) -> None:
    conv = await new_conversation(store, ws)
    other = await new_conversation(store, ws)
    assert await store.get_summary(ws, conv.id) is None
    first = SummaryRecord(conversation_id=conv.id, workspace_id=ws, text="one", covers_until_seq=3)
    await store.save_summary(first)
    assert await store.get_summary(ws, conv.id) == first
    second = SummaryRecord(conversation_id=conv.id, workspace_id=ws, text="two", covers_until_seq=9)
    await store.save_summary(second)
    assert await store.get_summary(ws, conv.id) == second
    assert await store.get_summary(ws, other.id) is None


async def test_prompt_records_in_insertion_order(store: ConversationStoreProtocol, ws: str) -> None:
    conv = await new_conversation(store, ws)
    assert await store.list_prompts(ws, conv.id) == []
    prompts = [
        PromptRecord(
            turn_id="t2",
            conversation_id=conv.id,
            workspace_id=ws,
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hi"},
            ],
            model="smollm2-135m-instruct",
        ),
        PromptRecord(
            turn_id="t1",
            conversation_id=conv.id,
            workspace_id=ws,
            purpose="summary",
            messages=[{"role": "user", "content": "sum up", "extra": {"n": [1, 2]}}],
            model="smollm2-135m-instruct",
        ),
    ]
    for prompt in prompts:
        await store.add_prompt(prompt)
    assert await store.list_prompts(ws, conv.id) == prompts


async def test_timestamps_come_back_aware_and_equal(
    store: ConversationStoreProtocol, ws: str
) -> None:
    app = await store.create_app(ws, AppSpec(name="tz"))
    shanghai = timezone(timedelta(hours=8))
    when = datetime(2025, 3, 4, 20, 30, 15, 123456, tzinfo=shanghai)
    record = conversation(ws, app.id, created_at=when, updated_at=when)
    await store.create_conversation(record)
    got = await store.get_conversation(ws, record.id)
    assert got.created_at == when and got.created_at.utcoffset() is not None
    fetched = await store.get_app(ws, app.id)
    assert fetched.created_at.tzinfo is not None and fetched.created_at == app.created_at


async def test_data_survives_reopening(database_url: str, ws: str) -> None:
    first = SqlConversationStore(database_url)
    await first.start()
    app = await first.create_app(ws, AppSpec(name="durable"))
    version = await first.publish(ws, app.id)
    conv = await first.create_conversation(conversation(ws, app.id, title="kept"))
    messages = [await first.add_message(message(conv, seq)) for seq in range(3)]
    summary = SummaryRecord(conversation_id=conv.id, workspace_id=ws, text="s", covers_until_seq=1)
    await first.save_summary(summary)
    prompt = PromptRecord(
        turn_id="turn_0", conversation_id=conv.id, workspace_id=ws, messages=[], model="m"
    )
    await first.add_prompt(prompt)
    conv = await first.get_conversation(ws, conv.id)
    await first.close()

    reopened = SqlConversationStore(database_url)
    await reopened.start()
    try:
        assert await reopened.get_app(ws, app.id) == app.model_copy(update={"published_version": 1})
        assert await reopened.get_version(ws, app.id) == version
        assert await reopened.get_conversation(ws, conv.id) == conv
        assert await reopened.list_messages(ws, conv.id) == messages
        assert await reopened.get_summary(ws, conv.id) == summary
        assert await reopened.list_prompts(ws, conv.id) == [prompt]
    finally:
        await reopened.close()


def _schema_diff(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_migrations_create_exactly_the_tables(database_url: str) -> None:
    store = SqlConversationStore(database_url)
    await store.start()
    await store.close()
    engine = create_store_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
    finally:
        await engine.dispose()


async def test_sqlite_file_is_created_in_wal_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    url = default_database_url(data_dir)
    assert url == f"sqlite+aiosqlite:///{data_dir.resolve() / 'chorus.db'}"
    store = SqlConversationStore(url)
    await store.start()
    await store.create_app("local", AppSpec(name="embedded"))
    await store.close()
    with sqlite3.connect(data_dir / "chorus.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT id FROM workspaces").fetchall() == [("local",)]
    db.close()


async def test_unreachable_database_is_unavailable() -> None:
    port = postgres.free_port()
    store = SqlConversationStore(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none")
    with pytest.raises(UpstreamUnavailableError) as err:
        await store.start()
    assert err.value.code == "store_unavailable"
    await store.close()


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unsupported database"):
        SqlConversationStore("mysql://root@127.0.0.1/chorus")
