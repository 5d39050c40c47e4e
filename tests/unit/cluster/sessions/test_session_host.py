from __future__ import annotations

import pytest

from agents.apps.spec import AppSpec
from agents.conversation.records import EarlierMessage, MessageRecord
from agents.conversation.service import SessionHost
from agents.conversation.store import InMemoryConversationStore
from agents.errors import InvalidInputError
from agents.scripted_engine import ScriptedEngine

WS = "ws1"


async def published_app(store: InMemoryConversationStore, **spec: object) -> str:
    app = await store.create_app(WS, AppSpec.model_validate({"name": "a", **spec}))
    await store.publish(WS, app.id)
    return app.id


def host(
    store: InMemoryConversationStore, engine: ScriptedEngine, capacity: int = 100
) -> SessionHost:
    return SessionHost(store, lambda model: engine, capacity=capacity)


async def events(h: SessionHost, conv: str, text: str) -> list:  # type: ignore[type-arg]
    return [e async for e in h.send(WS, conv, text)]


async def test_start_sends_opening_statement() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(
        store, opening_statement="Hi!", suggested_questions=["What can you do?"]
    )
    started = await host(store, ScriptedEngine(["x"])).start(WS, app_id)
    assert started.opening_statement == "Hi!" and started.suggested_questions == [
        "What can you do?"
    ]


async def test_unpublished_app_needs_debug_draft() -> None:
    store = InMemoryConversationStore()
    app = await store.create_app(WS, AppSpec(name="draft only"))
    h = host(store, ScriptedEngine(["x"]))
    with pytest.raises(InvalidInputError, match="no published version"):
        await h.start(WS, app.id)
    started = await h.start(WS, app.id, draft=AppSpec(name="edited", opening_statement="debug"))
    assert started.opening_statement == "debug"


async def test_restarted_host_reloads_full_history() -> None:
    store = InMemoryConversationStore()
    engine = ScriptedEngine(["first answer", "second answer"])
    app_id = await published_app(store)
    h1 = host(store, engine)
    conv = (await h1.start(WS, app_id)).conversation_id
    await events(h1, conv, "one")
    h2 = host(store, engine)  # a new shard process: nothing in memory
    await events(h2, conv, "two")
    history = await store.list_messages(WS, conv)
    assert [m.content for m in history] == ["one", "first answer", "two", "second answer"]
    assert [m.seq for m in history] == [0, 1, 2, 3]
    assert engine.requests[-1].messages[-3].content == "one"  # the reloaded history was used


async def test_pending_answer_of_a_dead_shard_is_settled_as_failed() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    h1 = host(store, ScriptedEngine(["x"]))
    conv = (await h1.start(WS, app_id)).conversation_id
    await store.add_message(
        MessageRecord(
            id="m0",
            conversation_id=conv,
            workspace_id=WS,
            seq=0,
            turn_id="t",
            role="user",
            content="q",
        )
    )
    await store.add_message(
        MessageRecord(
            id="m1",
            conversation_id=conv,
            workspace_id=WS,
            seq=1,
            turn_id="t",
            role="assistant",
            content="partial",
            status="pending",
        )
    )
    h2 = host(store, ScriptedEngine(["fine"]))
    out = await events(h2, conv, "again")
    assert out[-1].status == "complete"
    history = await store.list_messages(WS, conv)
    assert history[1].status == "failed" and history[1].error["code"] == "interrupted"
    assert [m.seq for m in history] == [0, 1, 2, 3]


async def test_second_message_while_streaming_is_refused() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    h = host(store, ScriptedEngine(["a b c d e f"], delay=0.01))
    conv = (await h.start(WS, app_id)).conversation_id
    stream = h.send(WS, conv, "first")
    await anext(stream)  # message_started: the turn is running
    refused = await events(h, conv, "second")
    assert [e.type for e in refused] == ["error"] and refused[0].code == "turn_in_progress"
    rest = [e async for e in stream]
    assert rest[-1].status == "complete"
    assert (await events(h, conv, "third"))[-1].status == "complete"


async def test_deleted_and_foreign_conversations_are_not_found() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    h = host(store, ScriptedEngine(["x"]))
    conv = (await h.start(WS, app_id)).conversation_id
    other = [e async for e in h.send("ws_other", conv, "hi")]
    assert other[0].code == "conversation_not_found"
    await store.delete_conversation(WS, conv)
    h.forget(conv)
    gone = await events(h, conv, "hi")
    assert [e.type for e in gone] == ["error"] and gone[0].code == "conversation_not_found"


async def test_lru_keeps_memory_bounded() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    h = host(store, ScriptedEngine(["x"]), capacity=5)
    convs = [(await h.start(WS, app_id)).conversation_id for _ in range(12)]
    assert h.live_count() == 5
    assert (await events(h, convs[0], "still works"))[-1].status == "complete"


async def test_a_retried_turn_is_not_run_twice() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    h = host(store, ScriptedEngine(["x"]))
    conv = (await h.start(WS, app_id)).conversation_id
    first = [e async for e in h.send(WS, conv, "hi", turn_id="turn_1")]
    again = [e async for e in h.send(WS, conv, "hi", turn_id="turn_1")]
    assert first[-1].status == "complete"
    assert [e.type for e in again] == ["error"] and again[0].code == "session_interrupted"
    assert len(await store.list_messages(WS, conv)) == 2


async def test_a_question_without_an_answer_row_is_settled_as_failed() -> None:
    """Data written before the question and its answer row were one transaction."""
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    conv = (await host(store, ScriptedEngine(["x"])).start(WS, app_id)).conversation_id
    for seq, turn_id, role in [(0, "t0", "user"), (1, "t0", "assistant"), (2, "t1", "user")]:
        await store.add_message(
            MessageRecord(
                id=f"m{seq}", conversation_id=conv, workspace_id=WS, seq=seq, turn_id=turn_id,
                role=role, content=f"said {seq}",
            )
        )  # fmt: skip
    h2 = host(store, ScriptedEngine(["fine"]))
    assert (await events(h2, conv, "again"))[-1].status == "complete"
    history = await store.list_messages(WS, conv)
    assert [(m.seq, m.status) for m in history] == [
        (0, "complete"), (1, "complete"), (2, "failed"), (3, "complete"), (4, "complete"),
    ]  # fmt: skip
    assert history[2].error == {
        "code": "interrupted",
        "message": "the session restarted before this message was answered",
    }
    h3 = host(store, ScriptedEngine(["again"]))  # settled once: a reload leaves it as it is
    await h3.resume(WS, conv)
    assert await store.list_messages(WS, conv) == history


async def test_imported_history_needs_no_answers() -> None:
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    earlier = [EarlierMessage(role="user", content="a"), EarlierMessage(role="user", content="b")]
    conv = (
        await host(store, ScriptedEngine(["x"])).start(WS, app_id, history=earlier)
    ).conversation_id
    await host(store, ScriptedEngine(["x"])).resume(WS, conv)
    assert [m.status for m in await store.list_messages(WS, conv)] == ["complete", "complete"]


async def test_a_turn_after_message_end_keeps_the_conversation_busy() -> None:
    """The finished turn's generator, closed late, never frees the next turn's conversation."""
    store = InMemoryConversationStore()
    app_id = await published_app(store)
    h = host(store, ScriptedEngine(["a b c"], delay=0.01))
    conv = (await h.start(WS, app_id)).conversation_id
    first = h.send(WS, conv, "one")
    async for event in first:
        if event.type == "message_end":
            break  # the generator is not closed yet
    second = h.send(WS, conv, "two")
    assert (await anext(second)).type == "message_started"
    await first.aclose()
    refused = await events(h, conv, "three")
    assert [e.code for e in refused] == ["turn_in_progress"]
    assert [e async for e in second][-1].status == "complete"
