"""One chat turn: moderation in -> memory -> engine -> moderation out -> persist -> follow-ups.

Ordering guarantees: the user message is stored before the model is called; the
answer (with its final status) is stored before ``message_end`` is sent; every
prompt sent to the model is recorded. A failing engine becomes an ``error``
event and a ``failed`` answer; a stop request becomes a ``stopped`` answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import structlog

from agents.apps.spec import AppSpec
from agents.conversation import memory
from agents.conversation.events import (
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
from agents.conversation.moderation import OutputMasker, blocked_keyword
from agents.conversation.records import (
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
    TurnUsage,
)
from agents.conversation.store import ConversationStoreProtocol
from agents.engine import ChatMessage, ChatRequest, EngineProtocol, ResponseFormat, Usage
from agents.errors import ChorusError
from agents.ids import new_id
from agents.knowledge.index import SearchOptions
from agents.knowledge.retriever import RetrievedChunk, RetrieverProtocol, context_block
from agents.planner import Planner, PlannerToolProtocol

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

    async def run(
        self, state: ConversationState, text: str, turn_id: str | None = None
    ) -> AsyncIterator[Event]:
        """Yields the turn's events; never raises for engine or moderation failures."""
        conv = state.record
        spec = state.spec
        turn_id = turn_id or new_id("turn")
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
        blocked = blocked_keyword(text, spec.moderation.input_keywords)
        if blocked:
            user.status = "blocked"
        await self.store.add_message(user)
        state.messages.append(user)
        answer = MessageRecord(
            id=new_id("msg"),
            conversation_id=conv.id,
            workspace_id=conv.workspace_id,
            seq=user.seq + 1,
            turn_id=turn_id,
            role="assistant",
            status="pending",
        )
        await self.store.add_message(answer)
        state.messages.append(answer)
        yield MessageStarted(
            conversation_id=conv.id, turn_id=turn_id, message_id=answer.id, user_message_id=user.id
        )
        if blocked:
            answer.content = spec.moderation.blocked_reply
            answer.status = "complete"
            await self.store.update_message(answer)
            yield MessageReplaced(
                conversation_id=conv.id,
                message_id=answer.id,
                content=answer.content,
                reason="input_blocked",
            )
            yield MessageEnd(conversation_id=conv.id, message_id=answer.id, status="complete")
            return

        knowledge: list[RetrievedChunk] = []
        if spec.knowledge_bases:
            try:
                knowledge = await self._retrieve(state, text)
            except ChorusError as exc:
                answer.status = "failed"
                answer.error = {"code": exc.code, "message": exc.message}
                await self.store.update_message(answer)
                yield ErrorEvent(
                    conversation_id=conv.id, message_id=answer.id, code=exc.code,
                    message=exc.message,
                )  # fmt: skip
                yield MessageEnd(conversation_id=conv.id, message_id=answer.id, status="failed")
                return
            for item in knowledge:
                yield Citation(
                    conversation_id=conv.id,
                    message_id=answer.id,
                    kb_id=item.kb_id,
                    document_id=item.chunk.document_id,
                    document_title=item.chunk.title,
                    chunk_id=item.chunk.id,
                    chunk_index=item.chunk.chunk_index,
                    score=item.chunk.score,
                    content=item.chunk.text,
                )
            if not knowledge:  # nothing relevant: say so instead of inventing
                answer.content = spec.retrieval.empty_reply
                answer.status = "complete"
                await self.store.update_message(answer)
                yield Delta(conversation_id=conv.id, message_id=answer.id, content=answer.content)
                yield MessageEnd(conversation_id=conv.id, message_id=answer.id, status="complete")
                return

        started = time.perf_counter()
        first_token: float | None = None
        masker = OutputMasker(spec.moderation.output_keywords, spec.moderation.mask)
        parts: list[str] = []
        status: Literal["complete", "stopped", "failed"] = "complete"
        usage = TurnUsage(model=spec.model.model)
        recorded: asyncio.Future[None] | None = None
        try:
            prompt = await self._prompt(state, turn_id, knowledge)
            # The prompt record is written while the model works (awaited before the end).
            recorded = asyncio.ensure_future(self._record(state, turn_id, "answer", prompt))
            async for piece in self._answer(state, prompt, answer.id):
                if isinstance(piece, str):
                    if first_token is None:
                        first_token = time.perf_counter()
                    safe = masker.feed(piece)
                    if safe:
                        parts.append(safe)
                        yield Delta(conversation_id=conv.id, message_id=answer.id, content=safe)
                elif isinstance(piece, Usage):
                    usage.prompt_tokens += piece.prompt_tokens
                    usage.completion_tokens += piece.completion_tokens
                else:
                    yield piece
                if state.cancel.is_set():
                    status = "stopped"
                    break
        except ChorusError as exc:
            status = "failed"
            answer.error = {"code": exc.code, "message": exc.message}
            log.warning("turn_failed", conversation_id=conv.id, code=exc.code, error=exc.message)
        except asyncio.CancelledError:
            status = "stopped"
            answer.content = "".join(parts) + masker.flush()
            answer.status = status
            await asyncio.shield(self.store.update_message(answer))
            raise
        if recorded is not None:
            await recorded
        rest = masker.flush()
        if rest:
            parts.append(rest)
            yield Delta(conversation_id=conv.id, message_id=answer.id, content=rest)
        usage.latency_ms = (time.perf_counter() - started) * 1000
        if first_token is not None:
            usage.time_to_first_token_ms = (first_token - started) * 1000
        answer.content = "".join(parts)
        answer.status = status
        answer.usage = usage
        await self.store.update_message(answer)
        if answer.error:
            yield ErrorEvent(
                conversation_id=conv.id,
                message_id=answer.id,
                code=answer.error["code"],
                message=answer.error["message"],
            )
        yield UsageEvent(
            conversation_id=conv.id,
            message_id=answer.id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            latency_ms=usage.latency_ms,
            time_to_first_token_ms=usage.time_to_first_token_ms,
            model=usage.model,
        )
        if status == "complete" and spec.follow_ups.enabled:
            questions = await self._follow_ups(state, turn_id, answer)
            if questions:
                answer.suggestions = questions
                await self.store.update_message(answer)
                yield Suggestions(
                    conversation_id=conv.id, message_id=answer.id, questions=questions
                )
        yield MessageEnd(conversation_id=conv.id, message_id=answer.id, status=status)

    async def _answer(
        self, state: ConversationState, prompt: list[ChatMessage], message_id: str
    ) -> AsyncIterator[str | Usage | Event]:
        """The answer as text pieces, usage per model call, and (with tools) the
        planner's tool_call / tool_result events."""
        spec = state.spec
        if (spec.tools or spec.workflows or spec.crews) and self.tools is not None:
            tools = await self.tools.tools_for(spec, state.record.workspace_id)
            planner = Planner(
                self.engine,
                spec.model.model,
                tools,
                max_steps=spec.planner.max_steps,
                mode=spec.planner.mode,
                first_tool_choice=spec.planner.first_tool_choice,
                temperature=spec.model.temperature,
                max_tokens=spec.model.max_tokens,
            )
            outputs = planner.run(prompt, conversation_id=state.record.id, message_id=message_id)
            try:
                async for out in outputs:
                    if out.kind == "text":
                        yield out.text
                    elif out.kind == "usage" and out.usage is not None:
                        yield out.usage
                    elif out.event is not None:
                        yield out.event
            finally:
                await outputs.aclose()  # type: ignore[attr-defined]
            return
        request = ChatRequest(
            model=spec.model.model,
            messages=prompt,
            temperature=spec.model.temperature,
            top_p=spec.model.top_p,
            max_tokens=spec.model.max_tokens,
            stream=True,
        )
        stream = self.engine.chat_stream(request)
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    yield chunk.usage
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def _retrieve(self, state: ConversationState, text: str) -> list[RetrievedChunk]:
        if self.retriever is None:
            raise ChorusError(
                "this app uses knowledge bases, but knowledge is not available here",
                code="knowledge_unavailable",
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

    async def _prompt(
        self, state: ConversationState, turn_id: str, knowledge: list[RetrievedChunk]
    ) -> list[ChatMessage]:
        """Summary + window (+ retrieved context), refreshing the summary first if
        messages left the window."""
        spec = state.spec
        history = memory.usable(state.messages)
        covered = state.summary.covers_until_seq if state.summary else -1
        window = await memory.select_window(history, spec.memory, state.tokens, covered)
        if window.evicted and spec.memory.summary:
            await self._summarise(state, turn_id, window.evicted)
        summary = state.summary.text if (state.summary and spec.memory.summary) else ""
        system = spec.render_system_prompt(state.record.inputs)
        if knowledge:
            system += "\n\n" + context_block(knowledge)
        return memory.assemble(system, summary, window.kept)

    async def _summarise(
        self, state: ConversationState, turn_id: str, evicted: list[MessageRecord]
    ) -> None:
        limit = state.spec.memory.summary_max_chars
        previous = state.summary.text if state.summary else ""
        earlier = memory.LongTermMemory.parse(previous).summary
        request_messages = memory.summary_request(earlier, evicted, limit)
        await self._record(state, turn_id, "summary", request_messages)
        try:
            out = await self.engine.chat(
                ChatRequest(
                    model=state.spec.model.model,
                    messages=request_messages,
                    temperature=0,
                    max_tokens=max(64, limit // 6),
                )
            )
            model_summary = out.choices[0].message.content or ""
        except ChorusError as exc:
            log.warning("summary_failed", conversation_id=state.record.id, error=exc.message)
            model_summary = ""
        text = memory.fold(previous, evicted, model_summary, limit)
        record = SummaryRecord(
            conversation_id=state.record.id,
            workspace_id=state.record.workspace_id,
            text=text,
            covers_until_seq=evicted[-1].seq,
        )
        await self.store.save_summary(record)
        state.summary = record

    async def _follow_ups(
        self, state: ConversationState, turn_id: str, answer: MessageRecord
    ) -> list[str]:
        count = state.spec.follow_ups.count
        schema = {
            "type": "object",
            "properties": {
                "questions": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 3, "maxLength": 120},
                    "minItems": 1,
                    "maxItems": count,
                }
            },
            "required": ["questions"],
            "additionalProperties": False,
        }
        last_user = next((m for m in reversed(state.messages) if m.role == "user"), None)
        messages = [
            ChatMessage(
                role="system",
                content=f"Suggest up to {count} short follow-up questions the user might ask "
                "next. Reply with JSON.",
            ),
            ChatMessage(
                role="user",
                content=f"User: {last_user.content if last_user else ''}\n"
                f"Assistant: {answer.content}",
            ),
        ]
        await self._record(state, turn_id, "follow_ups", messages)
        try:
            out = await self.engine.chat(
                ChatRequest(
                    model=state.spec.model.model,
                    messages=messages,
                    temperature=0.3,
                    max_tokens=60 * count,
                    response_format=ResponseFormat.model_validate(
                        {"type": "json_schema", "json_schema": {"name": "f", "schema": schema}}
                    ),
                )
            )
            data = json.loads(out.choices[0].message.content or "{}")
            questions = [q.strip() for q in data.get("questions", []) if str(q).strip()]
        except (ChorusError, ValueError, AttributeError) as exc:
            log.warning("follow_ups_failed", conversation_id=state.record.id, error=str(exc))
            return []
        return questions[:count]

    async def _record(
        self, state: ConversationState, turn_id: str, purpose: str, messages: list[ChatMessage]
    ) -> None:
        await self.store.add_prompt(
            PromptRecord(
                turn_id=turn_id,
                conversation_id=state.record.id,
                workspace_id=state.record.workspace_id,
                purpose=purpose,  # type: ignore[arg-type]
                messages=[m.model_dump(mode="json", exclude_none=True) for m in messages],
                model=state.spec.model.model,
            )
        )
