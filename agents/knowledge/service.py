"""Knowledge bases and documents as the API sees them: uploads and URLs handed to the
ingestion worker, deletions, and the retrieval-test query.

Ingestion runs elsewhere (on the server, a Ray actor): this service only queues it
through :class:`IngestionQueueProtocol`, whose outcome is written to the store.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from agents import error_codes
from agents.errors import InvalidInputError
from agents.ids import new_id
from agents.knowledge.index import KnowledgeIndexProtocol, SearchOptions
from agents.knowledge.parsing import detect_kind
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from agents.knowledge.retriever import RetrievedChunk, RetrieverProtocol
from agents.knowledge.store import KnowledgeStoreProtocol


class UrlCheckerProtocol(Protocol):
    async def check(self, url: str) -> object:
        """Raises ChorusError (``url_blocked``) for a URL the server must not fetch."""
        ...


class IngestionQueueProtocol(Protocol):
    """Where ingestion work goes; each call returns at once, the outcome is in the store."""

    def ingest_upload(self, workspace_id: str, kb_id: str, doc_id: str, data: bytes) -> None: ...

    def ingest_url(self, workspace_id: str, kb_id: str, doc_id: str) -> None: ...

    def crawl(
        self, workspace_id: str, kb_id: str, url: str, depth: int, max_pages: int
    ) -> None: ...

    def reindex(self, workspace_id: str, kb_id: str, doc_id: str) -> None: ...

    def forget(self, doc_id: str) -> None: ...


class KnowledgeService:
    def __init__(
        self,
        store: KnowledgeStoreProtocol,
        index: KnowledgeIndexProtocol,
        retriever: RetrieverProtocol,
        ingestion: IngestionQueueProtocol,
        guard: UrlCheckerProtocol,
        max_upload_bytes: int,
    ) -> None:
        self.store = store
        self.index = index
        self.retriever = retriever
        self.ingestion = ingestion
        self.guard = guard
        self.max_upload_bytes = max_upload_bytes

    async def create_kb(
        self, workspace_id: str, name: str, description: str, chunking: ChunkingSpec
    ) -> KnowledgeBaseRecord:
        record = KnowledgeBaseRecord(
            id=new_id("kb"),
            workspace_id=workspace_id,
            name=name,
            description=description,
            chunking=chunking,
        )
        return await self.store.create_kb(record)

    async def delete_kb(self, workspace_id: str, kb_id: str) -> None:
        await self.store.get_kb(workspace_id, kb_id)
        await self.index.drop(kb_id)
        await self.store.delete_kb(workspace_id, kb_id)

    async def upload(
        self, workspace_id: str, kb_id: str, filename: str, content_type: str, data: bytes
    ) -> DocumentRecord:
        await self.store.get_kb(workspace_id, kb_id)
        doc = DocumentRecord(
            id=new_id("doc"),
            kb_id=kb_id,
            workspace_id=workspace_id,
            name=filename or "upload",
            content_type=content_type,
            size_bytes=len(data),
        )
        reason: tuple[str, str] | None = None
        if len(data) > self.max_upload_bytes:
            limit = self.max_upload_bytes / 1e6
            reason = (
                error_codes.TOO_LARGE,
                f"the file is {len(data) / 1e6:.1f} MB; the limit is {limit:.0f} MB",
            )
        else:
            try:
                detect_kind(doc.name, content_type)
            except InvalidInputError as exc:
                reason = (exc.code, exc.message)
        if reason is not None:  # recorded as a failed document; nothing is sent to the worker
            doc.status, doc.error_code, doc.error, doc.progress = (
                "failed",
                reason[0],
                reason[1],
                1.0,
            )
            return await self.store.add_document(doc)
        previous = await self._same_name(workspace_id, kb_id, doc.name)
        if previous is not None:  # a re-upload replaces the document and its chunks
            if previous.checksum == _sha256(data) and previous.status == "ready":
                return previous  # unchanged: nothing to do
            doc = previous.model_copy(
                update={
                    "status": "queued", "progress": 0.0, "error": None, "error_code": None,
                    "content_type": content_type, "size_bytes": len(data),
                }
            )  # fmt: skip
            doc = await self.store.update_document(doc)
        else:
            doc = await self.store.add_document(doc)
        self.ingestion.ingest_upload(workspace_id, kb_id, doc.id, data)
        return doc

    async def _same_name(self, workspace_id: str, kb_id: str, name: str) -> DocumentRecord | None:
        documents = await self.store.list_documents(workspace_id, kb_id)
        return next((d for d in documents if d.source == "upload" and d.name == name), None)

    async def add_url(
        self, workspace_id: str, kb_id: str, url: str, depth: int, max_pages: int
    ) -> DocumentRecord | None:
        """One page (depth 0) becomes one document, returned; a crawl runs in the
        background and its pages appear as documents (returns None)."""
        await self.store.get_kb(workspace_id, kb_id)
        await self.guard.check(url)  # private, loopback, metadata: refused right away
        if depth > 0:
            self.ingestion.crawl(workspace_id, kb_id, url, depth, max_pages)
            return None
        doc = await self.store.add_document(
            DocumentRecord(
                id=new_id("doc"), kb_id=kb_id, workspace_id=workspace_id, name=url,
                source="url", url=url,
            )
        )  # fmt: skip
        self.ingestion.ingest_url(workspace_id, kb_id, doc.id)
        return doc

    async def reindex(self, workspace_id: str, kb_id: str, document_id: str) -> DocumentRecord:
        doc = await self.store.get_document(workspace_id, kb_id, document_id)
        doc.status, doc.progress, doc.error, doc.error_code = "queued", 0.0, None, None
        doc = await self.store.update_document(doc)
        self.ingestion.reindex(workspace_id, kb_id, document_id)
        return doc

    async def delete_document(self, workspace_id: str, kb_id: str, document_id: str) -> None:
        await self.store.get_document(workspace_id, kb_id, document_id)
        await self.index.delete_document(kb_id, document_id)
        await self.store.delete_document(workspace_id, kb_id, document_id)
        self.ingestion.forget(document_id)

    async def query(
        self, workspace_id: str, kb_id: str, query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        return await self.retriever.retrieve(workspace_id, [kb_id], query, options)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
