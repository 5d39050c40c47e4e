"""The answer's prompt: the app's system prompt (with the retrieved context), the
long-term memory and the recent window, the summary refreshed first when messages left
the window. Every prompt sent to the model is recorded (:meth:`PromptAssembler.record`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from agents.conversation import memory
from agents.conversation.records import MessageRecord, PromptRecord, SummaryRecord
from agents.conversation.store import ConversationStoreProtocol
from agents.engine import ChatMessage, ChatRequest, EngineProtocol
from agents.errors import ChorusError
from agents.knowledge.retriever import RetrievedChunk, context_block

if TYPE_CHECKING:  # the state is the turn's; the turn module builds this one
    from agents.conversation.turn import ConversationState

log = structlog.get_logger(__name__)


class PromptAssembler:
    def __init__(self, engine: EngineProtocol, store: ConversationStoreProtocol) -> None:
        self.engine = engine
        self.store = store

    async def assemble(
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
        await self.record(state, turn_id, "summary", request_messages)
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

    async def record(
        self, state: ConversationState, turn_id: str, purpose: str, messages: list[ChatMessage]
    ) -> None:
        """Keep what was sent to the model (``purpose``: answer, summary, follow_ups)."""
        await self.store.add_prompt(self.record_of(state, turn_id, purpose, messages))

    @staticmethod
    def record_of(
        state: ConversationState, turn_id: str, purpose: str, messages: list[ChatMessage]
    ) -> PromptRecord:
        """The record of what was sent to the model, to store with the answer."""
        return PromptRecord(
            turn_id=turn_id,
            conversation_id=state.record.id,
            workspace_id=state.record.workspace_id,
            purpose=purpose,  # type: ignore[arg-type]
            messages=[m.model_dump(mode="json", exclude_none=True) for m in messages],
            model=state.spec.model.model,
        )
