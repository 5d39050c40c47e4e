"""The durable store of knowledge bases and documents on SQLAlchemy: SQLite or PostgreSQL.

It implements :class:`agents.knowledge.store.KnowledgeStoreProtocol` with the
semantics of ``InMemoryKnowledgeStore``: every query is scoped by workspace, and
another workspace's knowledge base is "not found" (``kb_not_found``), as are its
documents (a missing document is ``document_not_found``). Deleting a knowledge
base deletes its documents (``ON DELETE CASCADE``). Unlike the fake, a repeated
id is refused (:class:`InvalidInputError`) rather than overwriting the record.
It shares the database, and the schema, with ``SqlConversationStore``; an
unreachable or locked database is :class:`UpstreamUnavailableError` (code
``store_unavailable``).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents import error_codes
from agents.errors import InvalidInputError, NotFoundError
from agents.ids import utcnow
from agents.knowledge.records import DocumentRecord, KnowledgeBaseRecord
from cluster.store.base_store import BaseSqlStore
from cluster.store.tables.knowledge import DocumentRow, KnowledgeBaseRow


class SqlKnowledgeStore(BaseSqlStore):
    """KnowledgeStoreProtocol on a SQL database; call ``start()`` before use."""

    # knowledge bases

    async def create_kb(self, record: KnowledgeBaseRecord) -> KnowledgeBaseRecord:
        async with self._workspace_session(record.workspace_id) as session:
            row = KnowledgeBaseRow.from_record(record)
            await self._add(session, row, InvalidInputError(f"knowledge base '{record.id}' exists"))
        return record

    async def get_kb(self, workspace_id: str, kb_id: str) -> KnowledgeBaseRecord:
        async with self._session() as session:
            return (await self._kb(session, workspace_id, kb_id)).to_record()

    async def list_kbs(self, workspace_id: str) -> list[KnowledgeBaseRecord]:
        return [row.to_record() for row in await self._owned_rows(KnowledgeBaseRow, workspace_id)]

    async def delete_kb(self, workspace_id: str, kb_id: str) -> None:
        async with self._session(write=True) as session:
            await self._kb(session, workspace_id, kb_id)
            await session.execute(delete(KnowledgeBaseRow).where(KnowledgeBaseRow.id == kb_id))

    # documents

    async def add_document(self, record: DocumentRecord) -> DocumentRecord:
        async with self._session(write=True) as session:
            await self._kb(session, record.workspace_id, record.kb_id, lock=True)
            row = DocumentRow.from_record(record)
            await self._add(session, row, InvalidInputError(f"document '{record.id}' exists"))
        return record

    async def update_document(self, record: DocumentRecord) -> DocumentRecord:
        """Overwrite the document with ``record``, setting ``record.updated_at`` to now."""
        now = utcnow()
        async with self._session(write=True) as session:
            row = await self._document(
                session, record.workspace_id, record.kb_id, record.id, lock=True
            )
            row.fill(record.model_copy(update={"updated_at": now}))
        record.updated_at = now
        return record

    async def get_document(self, workspace_id: str, kb_id: str, document_id: str) -> DocumentRecord:
        async with self._session() as session:
            return (await self._document(session, workspace_id, kb_id, document_id)).to_record()

    async def list_documents(self, workspace_id: str, kb_id: str) -> list[DocumentRecord]:
        query = (
            select(DocumentRow)
            .where(DocumentRow.workspace_id == workspace_id, DocumentRow.kb_id == kb_id)
            .order_by(DocumentRow.created_at, DocumentRow.id)
        )
        async with self._session() as session:
            await self._kb(session, workspace_id, kb_id)
            return [row.to_record() for row in await session.scalars(query)]

    async def delete_document(self, workspace_id: str, kb_id: str, document_id: str) -> None:
        async with self._session(write=True) as session:
            await self._document(session, workspace_id, kb_id, document_id)
            await session.execute(delete(DocumentRow).where(DocumentRow.id == document_id))

    # helpers

    async def _kb(
        self, session: AsyncSession, workspace_id: str, kb_id: str, *, lock: bool = False
    ) -> KnowledgeBaseRow:
        """The knowledge base; ``lock`` holds it against deletion until the transaction ends."""
        query = select(KnowledgeBaseRow).where(
            KnowledgeBaseRow.id == kb_id, KnowledgeBaseRow.workspace_id == workspace_id
        )
        row = await session.scalar(query.with_for_update(key_share=True) if lock else query)
        if row is None:
            raise NotFoundError(
                f"knowledge base '{kb_id}' not found", code=error_codes.KB_NOT_FOUND
            )
        return row

    async def _document(
        self,
        session: AsyncSession,
        workspace_id: str,
        kb_id: str,
        document_id: str,
        *,
        lock: bool = False,
    ) -> DocumentRow:
        """The document (``kb_not_found`` first, as in the fake); ``lock`` locks its row.

        The lock makes an update wait for, or see, a concurrent delete of the document
        or its knowledge base, so it is "not found" rather than a lost write.
        """
        await self._kb(session, workspace_id, kb_id)
        query = select(DocumentRow).where(DocumentRow.id == document_id, DocumentRow.kb_id == kb_id)
        row = await session.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFoundError(
                f"document '{document_id}' not found", code=error_codes.DOCUMENT_NOT_FOUND
            )
        return row
