"""The turn pipeline with a scripted engine and the in-memory store."""

from __future__ import annotations

import asyncio

import pytest

from agents.apps.spec import AppSpec
from agents.conversation import memory
from agents.conversation.records import ConversationRecord, MessageRecord
from agents.conversation.store import InMemoryConversationStore
from agents.conversation.turn import ConversationState, TurnRunner
from agents.errors import InvalidInputError, UpstreamUnavailableError
from agents.events import Event
from agents.scripted_engine import ScriptedEngine, ScriptedReply

WS = "ws_test"


async def setup(
    engine: ScriptedEngine, store: InMemoryConversationStore | None = None, **spec: object
) -> tuple[TurnRunner, ConversationState, InMemoryConversationStore]:
    store = store or InMemoryConversationStore()
    app = await store.create_app(WS, AppSpec.model_validate({"name": "t", **spec}))
    conv = await store.create_conversation(
        ConversationRecord(id="c1", workspace_id=WS, app_id=app.id)
    )
    state = ConversationState(
        record=conv,
        spec=app.draft,
        messages=[],
        summary=None,
        tokens=memory.TokenCache(engine.count_tokens),
    )
    return TurnRunner(engine, store), state, store


async def run(runner: TurnRunner, state: ConversationState, text: str) -> list[Event]:
    return [e async for e in runner.run(state, text)]


async def test_turn_events_and_storage_order() -> None:
    engine = ScriptedEngine(["Hello there friend."])
    runner, state, store = await setup(engine)
    events = await run(runner, state, "hi")
    kinds = [e.type for e in events]
    assert kinds[0] == "message_started" and kinds[-1] == "message_end"
    assert kinds.count("delta") == 3 and "usage" in kinds
    stored = await store.list_messages(WS, "c1")
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "complete")]
    assert stored[1].content == "Hello there friend."
    assert stored[1].usage and stored[1].usage.completion_tokens == 3
    prompts = await store.list_prompts(WS, "c1")
    assert prompts[0].purpose == "answer"
    assert prompts[0].messages[-1] == {"role": "user", "content": "hi"}


async def test_input_blocked_gets_preset_reply_without_model() -> None:
    engine = ScriptedEngine(["never"])
    runner, state, store = await setup(
        engine, moderation={"input_keywords": ["forbidden"], "blocked_reply": "No."}
    )
    events = await run(runner, state, "tell me FORBIDDEN things")
    assert [e.type for e in events] == ["message_started", "message_replaced", "message_end"]
    assert engine.requests == []
    stored = await store.list_messages(WS, "c1")
    assert stored[0].status == "blocked" and stored[1].content == "No."


async def test_output_masked_while_streaming() -> None:
    engine = ScriptedEngine(["the password is swordfish ok"])
    runner, state, store = await setup(engine, moderation={"output_keywords": ["swordfish"]})
    events = await run(runner, state, "password?")
    text = "".join(e.content for e in events if e.type == "delta")
    assert text == "the password is ********* ok"
    assert (await store.list_messages(WS, "c1"))[1].content == text


async def test_engine_failure_is_error_event_and_failed_message() -> None:
    engine = ScriptedEngine([ScriptedReply(error=UpstreamUnavailableError("down"))])
    runner, state, store = await setup(engine)
    events = await run(runner, state, "hi")
    err = next(e for e in events if e.type == "error")
    assert err.code == "engine_unavailable"
    assert events[-1].type == "message_end" and events[-1].status == "failed"
    stored = await store.list_messages(WS, "c1")
    assert stored[1].status == "failed" and stored[1].error["code"] == "engine_unavailable"
    # The conversation stays usable.
    engine._replies.append(ScriptedReply(content="back"))
    events = await run(runner, state, "again")
    assert events[-1].status == "complete"


async def test_stop_mid_stream_keeps_partial_answer() -> None:
    engine = ScriptedEngine(["one two three four five six seven"], delay=0.01)
    runner, state, store = await setup(engine)
    seen = []
    async for event in runner.run(state, "count"):
        seen.append(event)
        if event.type == "delta" and len(seen) == 3:
            state.cancel.set()
    assert seen[-1].type == "message_end" and seen[-1].status == "stopped"
    stored = (await store.list_messages(WS, "c1"))[1]
    assert stored.status == "stopped" and 0 < len(stored.content) < len("one two three four five")


async def test_cancelled_consumer_leaves_no_pending_message() -> None:
    engine = ScriptedEngine(["a b c d e f g h"], delay=0.05)
    runner, state, store = await setup(engine)

    async def consume() -> None:
        async for _ in runner.run(state, "x"):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await store.list_messages(WS, "c1")
    assert stored[1].status == "stopped"


async def test_small_window_moves_turn_one_into_summary() -> None:
    engine = ScriptedEngine(["ok"])
    # The summariser call returns the model's text; script it to echo a fact.
    runner, state, store = await setup(
        engine, memory={"window_messages": 4, "window_tokens": 1000, "summary": True}
    )
    engine._replies = [ScriptedReply(content="ok")]
    await run(runner, state, "My cat is called Pim.")
    for i in range(2, 6):
        await run(runner, state, f"turn {i}")
    prompts = await store.list_prompts(WS, "c1")
    summary_requests = [p for p in prompts if p.purpose == "summary"]
    assert summary_requests, "the window overflowed, so the summary must have been refreshed"
    assert "Pim" in summary_requests[0].messages[-1]["content"]
    last_answer = [p for p in prompts if p.purpose == "answer"][-1]
    assert len(last_answer.messages) == 1 + 4  # system + window
    summary = await store.get_summary(WS, "c1")
    assert summary is not None and summary.text in last_answer.messages[0]["content"]
    assert "My cat is called Pim." in last_answer.messages[0]["content"]


async def test_follow_ups_are_bounded() -> None:
    engine = ScriptedEngine(
        ["Answer.", '{"questions": ["a?", "b?", "c?", "d?", "e?", "f?", "g?"]}']
    )
    runner, state, store = await setup(engine, follow_ups={"enabled": True, "count": 5})
    events = await run(runner, state, "q")
    sugg = next(e for e in events if e.type == "suggestions")
    assert sugg.questions == ["a?", "b?", "c?", "d?", "e?"]
    assert events[-1].type == "message_end"
    assert engine.requests[-1].response_format is not None
    assert (await store.list_messages(WS, "c1"))[1].suggestions == sugg.questions


class FakeRetriever:
    def __init__(self, chunks: list[tuple[str, str, float]]) -> None:
        from agents.knowledge.index import ScoredChunk
        from agents.knowledge.retriever import RetrievedChunk

        self.items = [
            RetrievedChunk(
                kb_id="kb1",
                chunk=ScoredChunk(
                    id=f"c{i}", document_id=doc, chunk_index=i, text=text, score=score, title="T"
                ),
            )
            for i, (doc, text, score) in enumerate(chunks)
        ]
        self.calls: list[tuple[str, list[str], str]] = []

    async def retrieve(self, workspace_id, kb_ids, query, options):  # type: ignore[no-untyped-def]
        self.calls.append((workspace_id, kb_ids, query))
        return [
            i
            for i in self.items
            if options.score_threshold is None or i.chunk.score >= options.score_threshold
        ]


async def test_knowledge_is_cited_and_put_in_the_prompt() -> None:
    engine = ScriptedEngine(["The zoo opens at nine [1]."])
    runner, state, store = await setup(engine, knowledge_bases=["kb1"])
    runner.retriever = FakeRetriever([("doc_hours", "The zoo opens at nine.", 0.9)])
    events = await run(runner, state, "When does the zoo open?")
    kinds = [e.type for e in events]
    assert kinds.index("citation") < kinds.index("delta")
    citation = next(e for e in events if e.type == "citation")
    assert citation.document_id == "doc_hours" and citation.score == 0.9
    system = engine.requests[0].messages[0].text()
    assert "[1] (T) The zoo opens at nine." in system
    assert runner.retriever.calls == [(WS, ["kb1"], "When does the zoo open?")]


async def test_nothing_relevant_says_so_without_the_model() -> None:
    engine = ScriptedEngine(["invented"])
    runner, state, store = await setup(
        engine,
        knowledge_bases=["kb1"],
        retrieval={"score_threshold": 0.5, "empty_reply": "Not in my documents."},
    )
    runner.retriever = FakeRetriever([("d", "weak match", 0.1)])
    events = await run(runner, state, "Anything?")
    assert [e.type for e in events] == ["message_started", "delta", "message_end"]
    assert events[1].content == "Not in my documents." and engine.requests == []
    assert (await store.list_messages(WS, "c1"))[1].content == "Not in my documents."


async def test_knowledge_without_a_retriever_is_a_typed_error() -> None:
    runner, state, store = await setup(ScriptedEngine(["x"]), knowledge_bases=["kb1"])
    events = await run(runner, state, "hi")
    assert events[-2].type == "error" and events[-2].code == "knowledge_unavailable"
    assert events[-1].status == "failed"


class AppTools:
    """The app's selected tools, as the cluster's provider resolves them."""

    def __init__(self) -> None:
        from agents.tools.builtin import CalculatorTool

        self.available = {"calculator": CalculatorTool()}
        self.asked: list[tuple[list[str], str]] = []

    async def tools_for(self, spec: AppSpec, workspace_id: str) -> list:  # type: ignore[type-arg]
        from agents.errors import NotFoundError

        self.asked.append((spec.tools, workspace_id))
        missing = [t for t in spec.tools if t not in self.available]
        if missing:
            raise NotFoundError(f"no tool named {missing[0]!r}", code="tool_not_found")
        return [self.available[t] for t in spec.tools]


async def test_an_app_with_tools_plans_calls_and_streams_their_events() -> None:
    engine = ScriptedEngine(
        [ScriptedReply(tool_calls=[("calculator", {"expression": "19 * 21"})]), "It is 399."]
    )
    store = InMemoryConversationStore()
    app = await store.create_app(WS, AppSpec.model_validate({"name": "t", "tools": ["calculator"]}))
    conv = await store.create_conversation(
        ConversationRecord(id="c1", workspace_id=WS, app_id=app.id)
    )
    state = ConversationState(
        record=conv, spec=app.draft, messages=[], summary=None,
        tokens=memory.TokenCache(engine.count_tokens),
    )  # fmt: skip
    tools = AppTools()
    runner = TurnRunner(engine, store, tools=tools)
    events = await run(runner, state, "what is 19 times 21?")
    kinds = [e.type for e in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("delta")
    result = next(e for e in events if e.type == "tool_result")
    assert result.ok and result.result["result"] == 399
    stored = await store.list_messages(WS, "c1")
    assert stored[1].content == "It is 399." and stored[1].status == "complete"
    assert stored[1].usage is not None and stored[1].usage.completion_tokens > 3  # two calls
    assert tools.asked == [(["calculator"], WS)]

    state.spec = AppSpec.model_validate({"name": "t", "tools": ["nope"]})
    failed = await run(runner, state, "again")
    error = next(e for e in failed if e.type == "error")
    assert error.code == "tool_not_found" and failed[-1].status == "failed"


class WriteLog(InMemoryConversationStore):
    """The in-memory store, noting each write call (one call is one transaction)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    async def add_messages(self, records):  # type: ignore[no-untyped-def]
        self.writes.append("add_messages:" + ",".join(f"{r.role}/{r.status}" for r in records))
        await super().add_messages(records)

    async def update_message(self, record, prompts=()):  # type: ignore[no-untyped-def]
        self.writes.append(f"update_message:{record.status}+{len(prompts)} prompts")
        return await super().update_message(record, prompts)

    async def add_prompt(self, record):  # type: ignore[no-untyped-def]
        self.writes.append("add_prompt")
        await super().add_prompt(record)


async def test_one_write_before_the_first_token_and_one_after_the_answer() -> None:
    engine = ScriptedEngine(["Hello there friend."])
    store = WriteLog()
    runner, state, _ = await setup(engine, store)
    seen: list[str] = []
    async for event in runner.run(state, "hi"):
        if event.type == "delta" and not seen:
            seen = list(store.writes)
    assert seen == ["add_messages:user/complete,assistant/pending"]
    assert store.writes == seen + ["update_message:complete+1 prompts"]
    assert [p.purpose for p in await store.list_prompts(WS, "c1")] == ["answer"]


async def test_a_failed_question_write_leaves_neither_message() -> None:
    engine = ScriptedEngine(["never"])
    runner, state, store = await setup(engine)
    state.messages = [  # a seq the store already has: the pair is refused whole
        await store.add_message(
            MessageRecord(
                id="m1", conversation_id="c1", workspace_id=WS, seq=1, turn_id="t0",
                role="assistant", content="old",
            )
        )
    ]  # fmt: skip
    state.messages[0] = state.messages[0].model_copy(update={"seq": 0})
    with pytest.raises(InvalidInputError):
        await run(runner, state, "hi")
    assert [m.seq for m in await store.list_messages(WS, "c1")] == [1]
