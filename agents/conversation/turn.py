"""One chat turn, as named stages over one event stream: moderate input -> retrieve ->
assemble the prompt -> answer (its text through output moderation) -> follow-ups.

Ordering guarantees: the user message and the pending answer are stored together, in
one transaction, before the model is called (a shard that dies later leaves a pending
answer, which the reload settles as ``failed``; never a question without an answer);
the answer (with its final status and usage) is stored before ``message_end`` is sent,
in one transaction with the record of the prompt that produced it. A failing engine
becomes an ``error`` event and a ``failed`` answer; a stop request becomes a
``stopped`` answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal, Protocol

import structlog

from agents import error_codes
from agents.apps.spec import AppSpec
from agents.conversation import memory
from agents.conversation.answer_source import AnswerPiece, planned_answer, streamed_answer
from agents.conversation.follow_ups import (
    follow_ups_messages,
    follow_ups_request,
    read_follow_ups,
)
from agents.conversation.moderation import OutputMasker, blocked_keyword
from agents.conversation.prompt import PromptAssembler
from agents.conversation.records import (
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
    TurnUsage,
)
from agents.conversation.store import ConversationStoreProtocol
from agents.engine import ChatMessage, EngineProtocol, Usage
from agents.errors import ChorusError
from agents.events import (
    Citation,
    Delta,
    ErrorEvent,
    Event,
    MessageEnd,
    MessageReplaced,
    MessageStarted,
    Suggestions,
    UsageEvent,
)
from agents.ids import new_id
from agents.knowledge.index import SearchOptions
from agents.knowledge.retriever import RetrievedChunk, RetrieverProtocol
from agents.planner import PlannerToolProtocol

log = structlog.get_logger(__name__)


@dataclass
class ConversationState:
    """A conversation as its owner holds it in memory (a cache of the store)."""

    record: ConversationRecord
    spec: AppSpec
    messages: list[MessageRecord]
    summary: SummaryRecord | None
    tokens: memory.TokenCache
    busy: bool = False
    cancel: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def next_seq(self) -> int:
        return self.messages[-1].seq + 1 if self.messages else 0


class AppToolsProtocol(Protocol):
    async def tools_for(self, spec: AppSpec, workspace_id: str) -> Sequence[PlannerToolProtocol]:
        """The tools and workflow skills ``spec`` selects; raises NotFoundError naming
        an unknown one."""
        ...


@dataclass
class _Turn:
    """One turn in progress: its records, and what each stage leaves for the next."""

    state: ConversationState
    id: str
    question: str
    user: MessageRecord
    answer: MessageRecord
    #: Input moderation refused the question (it is stored as ``blocked``).
    blocked: bool
    masker: OutputMasker
    usage: TurnUsage
    knowledge: list[RetrievedChunk] = field(default_factory=list)
    #: The answer's text as sent (masked).
    parts: list[str] = field(default_factory=list)
    status: Literal["complete", "stopped", "failed"] = "complete"
    #: A stage ended the turn early; ``message_end`` follows at once.
    ended: bool = False
    started: float = 0.0
    first_token: float | None = None
    #: The answer prompt's record, stored with the answer.
    prompts: list[PromptRecord] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return self.state.record.id

    @property
    def spec(self) -> AppSpec:
        return self.state.spec

    def end(self, status: Literal["complete", "failed"]) -> None:
        self.status = status
        self.ended = True


Stage = Callable[[_Turn], AsyncGenerator[Event, None]]


class TurnRunner:
    def __init__(
        self,
        engine: EngineProtocol,
        store: ConversationStoreProtocol,
        retriever: RetrieverProtocol | None = None,
        tools: AppToolsProtocol | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.retriever = retriever
        self.tools = tools
        self.prompts = PromptAssembler(engine, store)

    async def run(
        self, state: ConversationState, text: str, turn_id: str | None = None
    ) -> AsyncIterator[Event]:
        """Yields the turn's events; never raises for engine or moderation failures.

        ``message_started`` first, then each stage's events, then ``message_end`` (a
        stage may end the turn early: a blocked question, a failed or empty retrieval).
        A cancelled turn stores what was sent as ``stopped`` and re-raises.
        """
        turn = await self._open(state, text, turn_id or new_id("turn"))
        yield MessageStarted(
            conversation_id=turn.conversation_id, turn_id=turn.id, message_id=turn.answer.id,
            user_message_id=turn.user.id,
        )  # fmt: skip
        stages: tuple[Stage, ...] = (
            self._moderate_input, self._retrieve, self._answer, self._follow_ups,
        )  # fmt: skip
        for stage in stages:
            async with aclosing(stage(turn)) as events:
                async for event in events:
                    yield event
            if turn.ended:
                break
        yield MessageEnd(
            conversation_id=turn.conversation_id, message_id=turn.answer.id, status=turn.status
        )

    async def _open(self, state: ConversationState, text: str, turn_id: str) -> _Turn:
        """Store the question (``blocked`` if input moderation refuses it) and the
        pending answer, in one transaction."""
        conv = state.record
        spec = state.spec
        state.cancel.clear()
        user = MessageRecord(
            id=new_id("msg"),
            conversation_id=conv.id,
            workspace_id=conv.workspace_id,
            seq=state.next_seq,
            turn_id=turn_id,
            role="user",
            content=text,
        )
        blocked = bool(blocked_keyword(text, spec.moderation.input_keywords))
        if blocked:
            user.status = "blocked"
        answer = MessageRecord(
            id=new_id("msg"),
            conversation_id=conv.id,
            workspace_id=conv.workspace_id,
            seq=user.seq + 1,
            turn_id=turn_id,
            role="assistant",
            status="pending",
        )
        await self.store.add_messages([user, answer])
        state.messages += [user, answer]
        masker = OutputMasker(spec.moderation.output_keywords, spec.moderation.mask)
        usage = TurnUsage(model=spec.model.model)
        return _Turn(state, turn_id, text, user, answer, blocked, masker, usage)

    # -- the stages ------------------------------------------------------------------------

    async def _moderate_input(self, turn: _Turn) -> AsyncGenerator[Event, None]:
        """A refused question gets the app's preset reply, and no model call."""
        if not turn.blocked:
            return
        turn.answer.content = turn.spec.moderation.blocked_reply
        turn.answer.status = "complete"
        await self.store.update_message(turn.answer)
        yield MessageReplaced(
            conversation_id=turn.conversation_id, message_id=turn.answer.id,
            content=turn.answer.content, reason="input_blocked",
        )  # fmt: skip
        turn.end("complete")

    async def _retrieve(self, turn: _Turn) -> AsyncGenerator[Event, None]:
        """The app's knowledge for the question, each chunk cited before the answer; a
        failed search fails the turn, nothing relevant gets the app's empty reply."""
        if not turn.spec.knowledge_bases:
            return
        answer = turn.answer
        try:
            turn.knowledge = await self._search(turn.state, turn.question)
        except ChorusError as exc:
            answer.status = "failed"
            answer.error = {"code": exc.code, "message": exc.message}
            await self.store.update_message(answer)
            yield ErrorEvent(
                conversation_id=turn.conversation_id, message_id=answer.id, code=exc.code,
                message=exc.message,
            )  # fmt: skip
            turn.end("failed")
            return
        for item in turn.knowledge:
            yield Citation(
                conversation_id=turn.conversation_id,
                message_id=answer.id,
                kb_id=item.kb_id,
                document_id=item.chunk.document_id,
                document_title=item.chunk.title,
                chunk_id=item.chunk.id,
                chunk_index=item.chunk.chunk_index,
                score=item.chunk.score,
                content=item.chunk.text,
            )
        if not turn.knowledge:  # nothing relevant: say so instead of inventing
            answer.content = turn.spec.retrieval.empty_reply
            answer.status = "complete"
            await self.store.update_message(answer)
            yield Delta(conversation_id=turn.conversation_id, message_id=answer.id,
                        content=answer.content)  # fmt: skip
            turn.end("complete")

    async def _answer(self, turn: _Turn) -> AsyncGenerator[Event, None]:
        """Assemble the prompt, stream the model's (or the planner's) answer through
        output moderation, then store it. A ChorusError fails the answer (an ``error``
        event says why); a cancelled turn stores what was sent as ``stopped``."""
        turn.started = time.perf_counter()
        try:
            prompt = await self._assemble_prompt(turn)
            pieces = await self._pieces(turn.state, prompt, turn.answer.id)
            async for event in self._moderate_output(turn, pieces):
                yield event
        except ChorusError as exc:
            turn.status = "failed"
            turn.answer.error = {"code": exc.code, "message": exc.message}
            log.warning(
                "turn_failed", conversation_id=turn.conversation_id, code=exc.code,
                error=exc.message,
            )  # fmt: skip
        except asyncio.CancelledError:
            turn.answer.content = "".join(turn.parts) + turn.masker.flush()
            turn.answer.status = "stopped"
            await asyncio.shield(self.store.update_message(turn.answer, turn.prompts))
            raise
        async for event in self._store_answer(turn):
            yield event

    async def _follow_ups(self, turn: _Turn) -> AsyncGenerator[Event, None]:
        """Suggested next questions after a complete answer, if the app wants them."""
        if turn.status != "complete" or not turn.spec.follow_ups.enabled:
            return
        questions = await self._suggest(turn)
        prompts, turn.prompts = turn.prompts, []
        if not questions:
            for prompt in prompts:
                await self.store.add_prompt(prompt)
            return
        turn.answer.suggestions = questions
        await self.store.update_message(turn.answer, prompts)
        yield Suggestions(
            conversation_id=turn.conversation_id, message_id=turn.answer.id,
            questions=questions,
        )  # fmt: skip

    # -- the answer ------------------------------------------------------------------------

    async def _assemble_prompt(self, turn: _Turn) -> list[ChatMessage]:
        """The prompt (see :class:`PromptAssembler`); its record is stored with the
        answer (no write before the first token)."""
        prompt = await self.prompts.assemble(turn.state, turn.id, turn.knowledge)
        turn.prompts.append(self.prompts.record_of(turn.state, turn.id, "answer", prompt))
        return prompt

    async def _moderate_output(
        self, turn: _Turn, pieces: AsyncIterator[AnswerPiece]
    ) -> AsyncIterator[Event]:
        """The answer's events: its text masked by output moderation (kept in
        ``turn.parts``), each model call's usage counted, a stop request honoured."""
        async for piece in pieces:
            if isinstance(piece, str):
                if turn.first_token is None:
                    turn.first_token = time.perf_counter()
                safe = turn.masker.feed(piece)
                if safe:
                    turn.parts.append(safe)
                    yield Delta(conversation_id=turn.conversation_id, message_id=turn.answer.id,
                                content=safe)  # fmt: skip
            elif isinstance(piece, Usage):
                turn.usage.prompt_tokens += piece.prompt_tokens
                turn.usage.completion_tokens += piece.completion_tokens
            else:
                yield piece
            if turn.state.cancel.is_set():
                turn.status = "stopped"
                break

    async def _store_answer(self, turn: _Turn) -> AsyncIterator[Event]:
        """The held-back text, then the answer stored with its status and usage; then its
        error (if it failed) and usage events."""
        answer, usage = turn.answer, turn.usage
        rest = turn.masker.flush()
        if rest:
            turn.parts.append(rest)
            yield Delta(conversation_id=turn.conversation_id, message_id=answer.id, content=rest)
        usage.latency_ms = (time.perf_counter() - turn.started) * 1000
        if turn.first_token is not None:
            usage.time_to_first_token_ms = (turn.first_token - turn.started) * 1000
        answer.content = "".join(turn.parts)
        answer.status = turn.status
        answer.usage = usage
        await self.store.update_message(answer, turn.prompts)
        turn.prompts = []
        if answer.error:
            yield ErrorEvent(
                conversation_id=turn.conversation_id,
                message_id=answer.id,
                code=answer.error["code"],
                message=answer.error["message"],
            )
        yield UsageEvent(
            conversation_id=turn.conversation_id,
            message_id=answer.id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            latency_ms=usage.latency_ms,
            time_to_first_token_ms=usage.time_to_first_token_ms,
            model=usage.model,
        )

    # -- helpers ----------------------------------------------------------------------------

    async def _pieces(
        self, state: ConversationState, prompt: list[ChatMessage], message_id: str
    ) -> AsyncIterator[AnswerPiece]:
        """The answer's source: the planner when the app has tools, workflows or crews
        (resolved here: an unknown one fails the answer), else the model, streamed."""
        spec = state.spec
        if (spec.tools or spec.workflows or spec.crews) and self.tools is not None:
            tools = await self.tools.tools_for(spec, state.record.workspace_id)
            return planned_answer(
                self.engine, spec, tools, prompt, conversation_id=state.record.id,
                message_id=message_id,
            )  # fmt: skip
        return streamed_answer(self.engine, spec, prompt)

    async def _search(self, state: ConversationState, text: str) -> list[RetrievedChunk]:
        if self.retriever is None:
            raise ChorusError(
                "this app uses knowledge bases, but knowledge is not available here",
                code=error_codes.KNOWLEDGE_UNAVAILABLE,
            )
        r = state.spec.retrieval
        options = SearchOptions(
            mode=r.mode,
            top_k=r.top_k,
            alpha=r.alpha,
            score_threshold=r.score_threshold,
            rerank=r.rerank,
            rerank_model=state.spec.model.model,
        )
        return await self.retriever.retrieve(
            state.record.workspace_id, state.spec.knowledge_bases, text, options
        )

    async def _suggest(self, turn: _Turn) -> list[str]:
        """Follow-up questions for the answer; none when the model fails to give them."""
        count = turn.spec.follow_ups.count
        last_user = next((m for m in reversed(turn.state.messages) if m.role == "user"), None)
        question = last_user.content if last_user else ""
        prompt = follow_ups_messages(count, question, turn.answer.content)
        # stored with the suggestions (on its own if there are none)
        turn.prompts.append(self.prompts.record_of(turn.state, turn.id, "follow_ups", prompt))
        try:
            out = await self.engine.chat(follow_ups_request(turn.spec.model.model, prompt, count))
            return read_follow_ups(out.choices[0].message.content, count)
        except (ChorusError, ValueError, AttributeError) as exc:
            log.warning("follow_ups_failed", conversation_id=turn.conversation_id, error=str(exc))
            return []
