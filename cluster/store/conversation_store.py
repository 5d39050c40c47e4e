"""The durable store of apps and conversations on SQLAlchemy: SQLite or PostgreSQL.

It implements :class:`agents.conversation.store.ConversationStoreProtocol` with the
semantics of ``InMemoryConversationStore``: every query is scoped by workspace,
another workspace's records and deleted conversations are "not found", and a
repeated ``(conversation_id, seq)`` is refused by the database's unique constraint.
Database errors become ``agents.errors`` here; an unreachable or locked database
is :class:`UpstreamUnavailableError` (code ``store_unavailable``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Result, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from agents import error_codes
from agents.apps.spec import AppSpec
from agents.conversation.records import (
    AppAccess,
    AppRecord,
    AppVersionRecord,
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
)
from agents.errors import InvalidInputError, NotFoundError
from agents.ids import new_id, utcnow
from agents.limits import Limits
from cluster.store.base_store import BaseSqlStore
from cluster.store.tables.base import Base
from cluster.store.tables.conversations import (
    AppRow,
    AppVersionRow,
    ConversationRow,
    MessageRow,
    PromptRow,
    SummaryRow,
)

ConversationPart = TypeVar("ConversationPart", MessageRow, PromptRow)

# A turn's writes as statements built once: each execution binds only its parameters (an
# UPDATE sets the columns its parameters name), so SQLAlchemy neither rebuilds nor re-keys
# a statement per call. ``b_*`` parameters are the WHERE clause's.
_messages = Base.metadata.tables[MessageRow.__tablename__]
_conversations = Base.metadata.tables[ConversationRow.__tablename__]
_live_conversation = (
    select(_conversations.c.id)
    .where(
        _conversations.c.id == bindparam("b_conversation"),
        _conversations.c.workspace_id == bindparam("b_workspace"),
        _conversations.c.deleted.is_(False),
    )
    .scalar_subquery()
)
_INSERT_MESSAGE = insert(_messages)
_INSERT_PROMPT = insert(Base.metadata.tables[PromptRow.__tablename__])
_UPDATE_MESSAGE = update(_messages).where(
    _messages.c.id == bindparam("b_id"),
    _messages.c.conversation_id == bindparam("b_conversation"),
    _messages.c.conversation_id.in_(_live_conversation),
)
_TOUCH_CONVERSATION = update(_conversations).where(
    _conversations.c.id == bindparam("b_conversation"),
    _conversations.c.workspace_id == bindparam("b_workspace"),
    _conversations.c.deleted.is_(False),
)


class SqlConversationStore(BaseSqlStore):
    """ConversationStoreProtocol on a SQL database; call ``start()`` before use."""

    # apps

    async def create_app(self, workspace_id: str, spec: AppSpec) -> AppRecord:
        app = AppRecord(id=new_id("app"), workspace_id=workspace_id, draft=spec)
        async with self._workspace_session(workspace_id) as session:
            session.add(AppRow.from_record(app))
        return app.model_copy(deep=True)

    async def get_app(self, workspace_id: str, app_id: str) -> AppRecord:
        async with self._session() as session:
            return (await self._app(session, workspace_id, app_id)).to_record()

    async def list_apps(self, workspace_id: str) -> list[AppRecord]:
        return [row.to_record() for row in await self._owned_rows(AppRow, workspace_id)]

    async def update_draft(self, workspace_id: str, app_id: str, spec: AppSpec) -> AppRecord:
        async with self._session(write=True) as session:
            row = await self._app(session, workspace_id, app_id)
            row.draft = spec.model_dump(mode="json")
            row.updated_at = utcnow()
            return row.to_record()

    async def delete_app(self, workspace_id: str, app_id: str) -> None:
        async with self._session(write=True) as session:
            await self._app(session, workspace_id, app_id)
            await session.execute(delete(AppRow).where(AppRow.id == app_id))

    async def publish(self, workspace_id: str, app_id: str) -> AppVersionRecord:
        async with self._session(write=True) as session:
            row = await self._app(session, workspace_id, app_id, for_update=True)
            record = AppVersionRecord(
                app_id=app_id,
                workspace_id=workspace_id,
                version=(row.published_version or 0) + 1,
                spec=AppSpec.model_validate(row.draft),
            )
            session.add(AppVersionRow.from_record(record))
            row.published_version = record.version
        return record

    async def get_version(
        self, workspace_id: str, app_id: str, version: int | None = None
    ) -> AppVersionRecord:
        async with self._session() as session:
            app = await self._app(session, workspace_id, app_id)
            wanted = version if version is not None else app.published_version
            found = await session.scalar(
                select(AppVersionRow).where(
                    AppVersionRow.app_id == app_id, AppVersionRow.version == (wanted or 0)
                )
            )
            if found is None:
                raise NotFoundError(
                    f"app '{app_id}' has no published version {wanted or ''}".strip(),
                    code=error_codes.VERSION_NOT_FOUND,
                )
            return found.to_record()

    async def set_access(self, workspace_id: str, app_id: str, access: AppAccess) -> AppRecord:
        async with self._session(write=True) as session:
            row = await self._app(session, workspace_id, app_id)
            row.access = access
            row.updated_at = utcnow()
            return row.to_record()

    async def set_limits(
        self,
        workspace_id: str,
        app_id: str,
        limits: Limits | None,
        end_user_limits: Limits | None,
    ) -> AppRecord:
        async with self._session(write=True) as session:
            row = await self._app(session, workspace_id, app_id)
            row.limits = limits.model_dump(mode="json") if limits else None
            row.end_user_limits = (
                end_user_limits.model_dump(mode="json") if end_user_limits else None
            )
            row.updated_at = utcnow()
            return row.to_record()

    async def find_app(self, app_id: str) -> AppRecord | None:
        async with self._session() as session:
            row = await session.get(AppRow, app_id)
            return None if row is None else row.to_record()

    # conversations

    async def create_conversation(self, record: ConversationRecord) -> ConversationRecord:
        async with self._session(write=True) as session:
            await self._app(session, record.workspace_id, record.app_id)
            row = ConversationRow.from_record(record)
            await self._add(session, row, InvalidInputError(f"conversation '{record.id}' exists"))
        return record

    async def get_conversation(self, workspace_id: str, conversation_id: str) -> ConversationRecord:
        async with self._session() as session:
            return (await self._conversation(session, workspace_id, conversation_id)).to_record()

    async def list_conversations(
        self,
        workspace_id: str,
        app_id: str | None = None,
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> list[ConversationRecord]:
        query = select(ConversationRow).where(
            ConversationRow.workspace_id == workspace_id, ConversationRow.deleted.is_(False)
        )
        if app_id is not None:
            query = query.where(ConversationRow.app_id == app_id)
        if user_id is not None:
            query = query.where(ConversationRow.user_id == user_id)
        query = query.order_by(
            ConversationRow.updated_at.desc(), ConversationRow.created_at, ConversationRow.id
        ).limit(max(limit, 0))
        async with self._session() as session:
            return [row.to_record() for row in await session.scalars(query)]

    async def rename_conversation(
        self, workspace_id: str, conversation_id: str, title: str
    ) -> ConversationRecord:
        async with self._session(write=True) as session:
            row = await self._conversation(session, workspace_id, conversation_id)
            row.title = title
            row.updated_at = utcnow()
            return row.to_record()

    async def delete_conversation(self, workspace_id: str, conversation_id: str) -> None:
        async with self._session(write=True) as session:
            (await self._conversation(session, workspace_id, conversation_id)).deleted = True

    # messages, summaries, prompts

    async def add_message(self, record: MessageRecord) -> MessageRecord:
        await self.add_messages([record])
        return record

    async def add_messages(self, records: Sequence[MessageRecord]) -> None:
        """One transaction: a turn's question and its pending answer are stored together.

        Prepared Core statements, not the ORM (a turn's hottest writes): each conversation
        is touched by one UPDATE that also proves it is live in the workspace, then each
        message is one INSERT."""
        async with self._session(write=True) as session:
            touched: set[str] = set()
            for record in records:
                if record.conversation_id not in touched:
                    await self._touch(session, record.workspace_id, record.conversation_id)
                    touched.add(record.conversation_id)
                try:
                    await session.execute(_INSERT_MESSAGE, MessageRow.values(record))
                except IntegrityError as exc:
                    raise _duplicate(record) from exc

    async def update_message(
        self, record: MessageRecord, prompts: Sequence[PromptRecord] = ()
    ) -> MessageRecord:
        """One transaction: the answer (its status and usage) with the prompts it sent.

        One UPDATE finds the message only in a live conversation of the workspace; the
        lookups that tell which of the two is missing run only when it matches nothing."""
        values = MessageRow.values(record)
        params = {k: v for k, v in values.items() if k != "id"} | {
            "b_id": record.id,
            "b_conversation": record.conversation_id,
            "b_workspace": record.workspace_id,
        }
        async with self._session(write=True) as session:
            try:
                result = await session.execute(_UPDATE_MESSAGE, params)
            except IntegrityError as exc:
                raise _duplicate(record) from exc
            if _rowcount(result) == 0:
                await self._conversation(session, record.workspace_id, record.conversation_id)
                raise NotFoundError(
                    f"message '{record.id}' not found", code=error_codes.MESSAGE_NOT_FOUND
                )
            for prompt in prompts:
                if prompt.conversation_id != record.conversation_id:
                    await self._conversation(session, prompt.workspace_id, prompt.conversation_id)
            if prompts:
                await session.execute(_INSERT_PROMPT, [PromptRow.values(p) for p in prompts])
        return record

    async def list_messages(self, workspace_id: str, conversation_id: str) -> list[MessageRecord]:
        rows = await self._rows_of(MessageRow, workspace_id, conversation_id, MessageRow.seq)
        return [row.to_record() for row in rows]

    async def save_summary(self, record: SummaryRecord) -> None:
        values = SummaryRow.values(record)
        upsert = self.database.insert(SummaryRow).values(values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={k: v for k, v in values.items() if k != "conversation_id"},
        )
        async with self._session(write=True) as session:
            await self._conversation(session, record.workspace_id, record.conversation_id)
            await session.execute(upsert)

    async def get_summary(self, workspace_id: str, conversation_id: str) -> SummaryRecord | None:
        async with self._session() as session:
            await self._conversation(session, workspace_id, conversation_id)
            row = await session.get(SummaryRow, conversation_id)
            return row.to_record() if row is not None else None

    async def add_prompt(self, record: PromptRecord) -> None:
        async with self._session(write=True) as session:
            await self._conversation(session, record.workspace_id, record.conversation_id)
            session.add(PromptRow.from_record(record))

    async def list_prompts(self, workspace_id: str, conversation_id: str) -> list[PromptRecord]:
        rows = await self._rows_of(PromptRow, workspace_id, conversation_id, PromptRow.id)
        return [row.to_record() for row in rows]

    # helpers

    async def _rows_of(
        self,
        rows: type[ConversationPart],
        workspace_id: str,
        conversation_id: str,
        order: QueryableAttribute[int],
    ) -> list[ConversationPart]:
        """The conversation's messages or prompts, in ``order``."""
        query = (
            select(rows)
            .where(rows.workspace_id == workspace_id, rows.conversation_id == conversation_id)
            .order_by(order)
        )
        async with self._session() as session:
            await self._conversation(session, workspace_id, conversation_id)
            return list(await session.scalars(query))

    async def _app(
        self, session: AsyncSession, workspace_id: str, app_id: str, *, for_update: bool = False
    ) -> AppRow:
        query = select(AppRow).where(AppRow.id == app_id, AppRow.workspace_id == workspace_id)
        row = await session.scalar(query.with_for_update() if for_update else query)
        if row is None:
            raise NotFoundError(f"app '{app_id}' not found", code=error_codes.APP_NOT_FOUND)
        return row

    async def _touch(self, session: AsyncSession, workspace_id: str, conversation_id: str) -> None:
        """Mark the conversation updated now; not found unless it is live in the workspace."""
        params = {"updated_at": utcnow(), "b_conversation": conversation_id}
        result = await session.execute(_TOUCH_CONVERSATION, params | {"b_workspace": workspace_id})
        if _rowcount(result) == 0:
            raise NotFoundError(
                f"conversation '{conversation_id}' not found",
                code=error_codes.CONVERSATION_NOT_FOUND,
            )

    async def _conversation(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> ConversationRow:
        row = await session.scalar(
            select(ConversationRow).where(
                ConversationRow.id == conversation_id,
                ConversationRow.workspace_id == workspace_id,
                ConversationRow.deleted.is_(False),
            )
        )
        if row is None:
            raise NotFoundError(
                f"conversation '{conversation_id}' not found",
                code=error_codes.CONVERSATION_NOT_FOUND,
            )
        return row


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (both drivers report it)."""
    return int(getattr(result, "rowcount", 0))


def _duplicate(message: MessageRecord) -> InvalidInputError:
    return InvalidInputError(
        f"message seq {message.seq} already exists in '{message.conversation_id}'",
        code=error_codes.DUPLICATE_MESSAGE,
        details={"message_id": message.id, "seq": message.seq},
    )
