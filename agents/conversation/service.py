"""The conversations one owner holds: an LRU of live states over the durable store.

A plain class (tested without Ray); :class:`cluster.sessions.session_shard.SessionShard`
is the Ray actor shell around it. A conversation not in memory is reloaded from
the store on first use, so a restarted shard loses nothing that was written.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

import structlog

from agents import error_codes
from agents.apps.spec import AppSpec
from agents.conversation import memory
from agents.conversation.records import ConversationRecord, EarlierMessage, MessageRecord
from agents.conversation.store import ConversationStoreProtocol
from agents.conversation.turn import AppToolsProtocol, ConversationState, TurnRunner
from agents.engine import EngineProtocol
from agents.errors import ChorusError, InvalidInputError
from agents.events import ConversationStarted, ErrorEvent, Event
from agents.ids import new_id
from agents.knowledge.retriever import RetrieverProtocol

log = structlog.get_logger(__name__)
#: The turn id of a conversation's earlier messages given when it starts (no answer rows).
IMPORTED = "imported"


class SessionHost:
    def __init__(
        self,
        store: ConversationStoreProtocol,
        engine_for: Callable[[str], EngineProtocol],
        capacity: int = 10_000,
        retriever: RetrieverProtocol | None = None,
        tools: AppToolsProtocol | None = None,
    ) -> None:
        self.store = store
        self.engine_for = engine_for
        self.capacity = capacity
        self.retriever = retriever
        self.tools = tools
        self._live: OrderedDict[str, ConversationState] = OrderedDict()

    # -- lifecycle of states ------------------------------------------------------------

    def live_count(self) -> int:
        return len(self._live)

    def _remember(self, state: ConversationState) -> None:
        self._live[state.record.id] = state
        self._live.move_to_end(state.record.id)
        while len(self._live) > self.capacity:
            oldest_id, oldest = next(iter(self._live.items()))
            if oldest.busy:  # never evict a conversation mid-turn
                self._live.move_to_end(oldest_id)
                if all(s.busy for s in self._live.values()):
                    break
                continue
            del self._live[oldest_id]

    async def _spec_for(self, record: ConversationRecord, draft: AppSpec | None) -> AppSpec:
        if draft is not None:
            return draft
        if record.app_version is None:  # debug conversation resumed without a draft
            return (await self.store.get_app(record.workspace_id, record.app_id)).draft
        version = await self.store.get_version(
            record.workspace_id, record.app_id, record.app_version
        )
        return version.spec

    async def _state(
        self, workspace_id: str, conversation_id: str, draft: AppSpec | None = None
    ) -> ConversationState:
        state = self._live.get(conversation_id)
        if state is not None and state.record.workspace_id == workspace_id:
            if draft is not None:
                state.spec = draft
            self._live.move_to_end(conversation_id)
            return state
        record = await self.store.get_conversation(workspace_id, conversation_id)
        messages = await self.store.list_messages(workspace_id, conversation_id)
        answered = {m.turn_id for m in messages if m.role == "assistant"}
        messages = [await self._settle(m, answered) for m in messages]
        spec = await self._spec_for(record, draft)
        state = ConversationState(
            record=record,
            spec=spec,
            messages=messages,
            summary=await self.store.get_summary(workspace_id, conversation_id),
            tokens=memory.TokenCache(self.engine_for(spec.model.model).count_tokens),
        )
        self._remember(state)
        return state

    async def _settle(self, message: MessageRecord, answered: set[str]) -> MessageRecord:
        """A message still pending after a reload belonged to a turn that died with its
        shard: mark it failed, so history never holds a half-written answer. So is a
        question with no answer row at all (``answered``: the turns that have one), which
        data written before the two were one transaction may hold."""
        if message.status == "pending":
            reason = "the session restarted mid-answer"
        elif (
            message.role == "user"
            and message.status == "complete"
            and message.turn_id != IMPORTED
            and message.turn_id not in answered
        ):
            reason = "the session restarted before this message was answered"
        else:
            return message
        message.status = "failed"
        message.error = {"code": error_codes.INTERRUPTED, "message": reason}
        await self.store.update_message(message)
        log.info("message_settled", conversation_id=message.conversation_id, id=message.id)
        return message

    # -- operations ---------------------------------------------------------------------

    async def start(
        self,
        workspace_id: str,
        app_id: str,
        *,
        conversation_id: str | None = None,
        inputs: dict[str, str] | None = None,
        user_id: str | None = None,
        draft: AppSpec | None = None,
        history: list[EarlierMessage] | None = None,
    ) -> ConversationStarted:
        """Create a conversation on the app's published version (or on ``draft`` for
        debug), with ``history`` as its earlier messages."""
        app = await self.store.get_app(workspace_id, app_id)
        if draft is None and app.published_version is None:
            raise InvalidInputError(
                f"app '{app_id}' has no published version; publish it or use debug chat",
                code=error_codes.APP_NOT_PUBLISHED,
            )
        spec = draft or (await self.store.get_version(workspace_id, app_id)).spec
        spec.render_system_prompt(inputs)  # refuses missing required variables now
        record = ConversationRecord(
            id=conversation_id or new_id("conv"),
            workspace_id=workspace_id,
            app_id=app_id,
            app_version=None if draft is not None else app.published_version,
            inputs=dict(inputs or {}),
            user_id=user_id,
        )
        await self.store.create_conversation(record)
        messages = [
            MessageRecord(
                id=new_id("msg"),
                conversation_id=record.id,
                workspace_id=workspace_id,
                seq=seq,
                turn_id=IMPORTED,
                role=earlier.role,
                content=earlier.content,
            )
            for seq, earlier in enumerate(history or [])
        ]
        if messages:
            await self.store.add_messages(messages)
        state = ConversationState(
            record=record,
            spec=spec,
            messages=messages,
            summary=None,
            tokens=memory.TokenCache(self.engine_for(spec.model.model).count_tokens),
        )
        self._remember(state)
        return self._started(state, resumed=False)

    async def resume(self, workspace_id: str, conversation_id: str) -> ConversationStarted:
        return self._started(await self._state(workspace_id, conversation_id), resumed=True)

    def _started(self, state: ConversationState, resumed: bool) -> ConversationStarted:
        return ConversationStarted(
            conversation_id=state.record.id,
            app_id=state.record.app_id,
            opening_statement=state.spec.opening_statement,
            suggested_questions=list(state.spec.suggested_questions),
            resumed=resumed,
        )

    async def send(
        self,
        workspace_id: str,
        conversation_id: str,
        text: str,
        draft: AppSpec | None = None,
        turn_id: str | None = None,
    ) -> AsyncIterator[Event]:
        """Run one turn; yields its events. Refusals come as one ``error`` event.

        ``turn_id`` makes a retried call idempotent: a turn already stored is not run again.
        """
        try:
            state = await self._state(workspace_id, conversation_id, draft)
        except ChorusError as exc:
            yield ErrorEvent(conversation_id=conversation_id, code=exc.code, message=exc.message)
            return
        if turn_id is not None and any(m.turn_id == turn_id for m in state.messages):
            yield ErrorEvent(
                conversation_id=conversation_id,
                code=error_codes.SESSION_INTERRUPTED,
                message="the session restarted while this message was being answered; "
                "send it again",
            )
            return
        if state.busy:
            yield ErrorEvent(
                conversation_id=conversation_id,
                code=error_codes.TURN_IN_PROGRESS,
                message="an answer is still streaming; stop it or wait for message_end",
            )
            return
        state.busy = True
        ours = True  # until message_end frees the conversation for the next turn
        try:
            runner = TurnRunner(
                self.engine_for(state.spec.model.model), self.store, self.retriever, self.tools
            )
            async for event in runner.run(state, text, turn_id):
                if event.type == "message_end":
                    # Everything is stored by now: the next message may come right away
                    # (and may start before this generator is closed).
                    state.busy = ours = False
                yield event
        except ChorusError as exc:  # a store failure: the turn could not be recorded
            log.error("turn_store_failed", conversation_id=conversation_id, error=exc.message)
            yield ErrorEvent(conversation_id=conversation_id, code=exc.code, message=exc.message)
        finally:
            if ours:  # never the flag of a turn that started after message_end
                state.busy = False

    def stop(self, conversation_id: str) -> bool:
        """Ask the running turn to stop; False if none is running here."""
        state = self._live.get(conversation_id)
        if state is None or not state.busy:
            return False
        state.cancel.set()
        return True

    def forget(self, conversation_id: str) -> None:
        """Drop a conversation from memory (after it was deleted)."""
        self._live.pop(conversation_id, None)
