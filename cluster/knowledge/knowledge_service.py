"""The gateway's side of knowledge: bases and documents, uploads handed to the worker,
and the retrieval-test query."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import structlog

from agents.errors import InvalidInputError
from agents.ids import new_id
from agents.knowledge.index import KnowledgeIndexProtocol, SearchOptions
from agents.knowledge.parsing import detect_kind
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from agents.knowledge.retriever import RetrievedChunk
from agents.knowledge.store import KnowledgeStoreProtocol
from cluster.knowledge.retriever import KnowledgeRetriever
from cluster.outbound.guard import GuardedFetcher

log = structlog.get_logger(__name__)


class KnowledgeService:
    def __init__(
        self,
        store: KnowledgeStoreProtocol,
        index: KnowledgeIndexProtocol,
        retriever: KnowledgeRetriever,
        worker: Any,
        guard: GuardedFetcher,
        max_upload_bytes: int,
    ) -> None:
        self.store = store
        self.index = index
        self.retriever = retriever
        self.worker = worker
        self.guard = guard
        self.max_upload_bytes = max_upload_bytes
        self._jobs: set[asyncio.Future[Any]] = set()

    def _track(self, ref: Any) -> None:
        """Keep a worker call alive until it ends; its outcome is in the store."""
        future = asyncio.ensure_future(_await(ref))
        self._jobs.add(future)
        future.add_done_callback(self._jobs.discard)

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
                "too_large",
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
        self._track(self.worker.ingest_upload.remote(workspace_id, kb_id, doc.id, data))
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
            self._track(self.worker.crawl.remote(workspace_id, kb_id, url, depth, max_pages))
            return None
        doc = await self.store.add_document(
            DocumentRecord(
                id=new_id("doc"), kb_id=kb_id, workspace_id=workspace_id, name=url,
                source="url", url=url,
            )
        )  # fmt: skip
        self._track(self.worker.ingest_url.remote(workspace_id, kb_id, doc.id))
        return doc

    async def reindex(self, workspace_id: str, kb_id: str, document_id: str) -> DocumentRecord:
        doc = await self.store.get_document(workspace_id, kb_id, document_id)
        doc.status, doc.progress, doc.error, doc.error_code = "queued", 0.0, None, None
        doc = await self.store.update_document(doc)
        self._track(self.worker.reindex.remote(workspace_id, kb_id, document_id))
        return doc

    async def delete_document(self, workspace_id: str, kb_id: str, document_id: str) -> None:
        await self.store.get_document(workspace_id, kb_id, document_id)
        await self.index.delete_document(kb_id, document_id)
        await self.store.delete_document(workspace_id, kb_id, document_id)
        self.worker.forget.remote(document_id)

    async def query(
        self, workspace_id: str, kb_id: str, query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        return await self.retriever.retrieve(workspace_id, [kb_id], query, options)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _await(ref: Any) -> Any:
    try:
        return await ref
    except Exception as exc:  # noqa: BLE001 - the worker records outcomes; this is a crash
        log.error("knowledge_job_failed", error=repr(exc))
        return None
