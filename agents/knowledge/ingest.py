"""Ingestion: bytes or a URL in, chunks with vectors in the index, the document's status stored.

Status runs queued -> parsing -> indexing -> ready, or -> failed with a readable
reason (``error``) and a stable ``error_code``; a failure touches nothing but its
own document. Re-ingesting a document replaces its chunks.

Parsing and chunking are one pure step, :func:`prepare_document`, which the caller may
run elsewhere (the knowledge worker sends large uploads to Ray tasks); by default it
runs in a thread. Embedding runs in batches, several at once, so a cluster's embedding
replicas share a large upload, and small documents ingested at the same time share
batches (:class:`~agents.knowledge.embed_batcher.BatchingEmbedder`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from agents import error_codes
from agents.errors import ChorusError
from agents.knowledge import chunking
from agents.knowledge.crawl import same_site_links
from agents.knowledge.embed_batcher import BatchingEmbedder, EmbedderProtocol
from agents.knowledge.index import IndexedChunk, KnowledgeIndexProtocol
from agents.knowledge.parsing import DocumentError, parse
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from agents.knowledge.store import KnowledgeStoreProtocol

log = structlog.get_logger(__name__)

Progress = Callable[[DocumentRecord], Awaitable[None]]


@dataclass
class PreparedDocument:
    """A document parsed and cut into chunks, ready to embed."""

    title: str
    metadata: dict[str, str] = field(default_factory=dict)
    chunks: list[chunking.Chunk] = field(default_factory=list)


def prepare_document(
    data: bytes,
    name: str,
    content_type: str,
    spec: ChunkingSpec,
    count: chunking.TokenCount = chunking.estimate_tokens,
) -> PreparedDocument:
    """Parse ``data`` and chunk its text as ``spec`` says. Pure; raises
    :class:`~agents.knowledge.parsing.DocumentError` for a document it cannot read."""
    parsed = parse(data, name, content_type)
    if spec.mode == "parent_child":
        chunks = chunking.chunk_parent_child(
            parsed.text,
            parent_max_tokens=spec.parent_max_tokens,
            child_max_tokens=spec.max_tokens,
            overlap_tokens=spec.overlap_tokens,
            count=count,
        )
    else:
        chunks = chunking.chunk_text(
            parsed.text,
            max_tokens=spec.max_tokens,
            overlap_tokens=spec.overlap_tokens,
            count=count,
        )
    return PreparedDocument(title=parsed.title, metadata=dict(parsed.metadata), chunks=chunks)


#: Runs :func:`prepare_document` somewhere: (data, name, content type, chunking spec).
Preparer = Callable[[bytes, str, str, ChunkingSpec], Awaitable[PreparedDocument]]


class FetchedProtocol(Protocol):
    url: str
    status_code: int
    content: bytes

    @property
    def content_type(self) -> str: ...


class FetcherProtocol(Protocol):
    async def fetch(self, url: str, *, max_bytes: int | None = None) -> FetchedProtocol: ...


class Ingestor:
    def __init__(
        self,
        store: KnowledgeStoreProtocol,
        index: KnowledgeIndexProtocol,
        embedder: EmbedderProtocol,
        *,
        max_bytes: int = 100 * 1024 * 1024,
        batch_size: int = 32,
        parallel_batches: int = 4,
        count: chunking.TokenCount = chunking.estimate_tokens,
        prepare: Preparer | None = None,
        coalesce_wait_s: float = 0.02,
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = BatchingEmbedder(
            embedder,
            batch_size=batch_size,
            max_wait_s=coalesce_wait_s,
            max_in_flight=parallel_batches,
        )
        self.prepare = prepare or self._prepare_in_thread
        self.max_bytes = max_bytes
        self.batch_size = batch_size
        self.parallel_batches = parallel_batches
        self.count = count

    async def _prepare_in_thread(
        self, data: bytes, name: str, content_type: str, spec: ChunkingSpec
    ) -> PreparedDocument:
        return await asyncio.to_thread(prepare_document, data, name, content_type, spec, self.count)

    async def _set(self, doc: DocumentRecord, **changes: object) -> DocumentRecord:
        for key, value in changes.items():
            setattr(doc, key, value)
        return await self.store.update_document(doc)

    async def _fail(self, doc: DocumentRecord, code: str, reason: str) -> DocumentRecord:
        log.info("document_failed", document_id=doc.id, kb_id=doc.kb_id, code=code, reason=reason)
        return await self._set(doc, status="failed", error=reason, error_code=code, progress=1.0)

    async def ingest_bytes(
        self, kb: KnowledgeBaseRecord, doc: DocumentRecord, data: bytes
    ) -> DocumentRecord:
        """Parse, chunk, embed and index ``data`` as ``doc``; never raises for bad input."""
        if len(data) > self.max_bytes:
            return await self._fail(
                doc,
                error_codes.TOO_LARGE,
                f"the file is {len(data) / 1e6:.1f} MB; the limit is {self.max_bytes / 1e6:.0f} MB",
            )
        checksum = hashlib.sha256(data).hexdigest()
        doc = await self._set(
            doc, status="parsing", size_bytes=len(data), checksum=checksum, error=None,
            error_code=None, progress=0.05,
        )  # fmt: skip
        try:
            prepared = await self.prepare(data, doc.name, doc.content_type or "", kb.chunking)
        except DocumentError as exc:
            return await self._fail(doc, exc.code, exc.message)
        chunks = prepared.chunks
        title = prepared.title or doc.name
        doc.metadata = {**prepared.metadata, **doc.metadata, "title": title}
        doc = await self._set(doc, status="indexing", progress=0.1)
        try:
            vectors = await self._embed_all(doc, [c.text for c in chunks])
            tags = [f"{k}={v}" for k, v in sorted(doc.metadata.items())]
            indexed = [
                IndexedChunk(
                    id=f"{doc.id}-{c.index}",
                    document_id=doc.id,
                    chunk_index=c.index,
                    text=c.text,
                    vector=vector,
                    parent_text=c.parent_text,
                    title=title,
                    tags=tags,
                )
                for c, vector in zip(chunks, vectors, strict=True)
            ]
            await self.index.delete_document(kb.id, doc.id)
            await self.index.upsert(kb.id, indexed)
        except ChorusError as exc:
            return await self._fail(doc, exc.code, f"indexing failed: {exc.message}")
        return await self._set(doc, status="ready", chunk_count=len(chunks), progress=1.0)

    async def _embed_all(self, doc: DocumentRecord, texts: list[str]) -> list[list[float]]:
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        results: list[list[list[float]]] = [[] for _ in batches]
        gate = asyncio.Semaphore(self.parallel_batches)
        done = 0
        lock = asyncio.Lock()

        async def run(i: int, batch: list[str]) -> None:
            nonlocal done
            async with gate:
                results[i] = await self.embedder.embed(batch, "passage")
            async with lock:
                done += 1
                progress = 0.1 + 0.85 * done / len(batches)
                if done == len(batches) or done % max(1, len(batches) // 10) == 0:
                    await self._set(doc, progress=round(progress, 3))

        await asyncio.gather(*(run(i, b) for i, b in enumerate(batches)))
        return [vector for batch in results for vector in batch]

    async def ingest_url(
        self, kb: KnowledgeBaseRecord, doc: DocumentRecord, fetcher: FetcherProtocol
    ) -> DocumentRecord:
        """Fetch ``doc.url`` through the outbound guard, then ingest it."""
        doc, _ = await self._fetch_and_ingest(kb, doc, fetcher)
        return doc

    async def _fetch_and_ingest(
        self, kb: KnowledgeBaseRecord, doc: DocumentRecord, fetcher: FetcherProtocol
    ) -> tuple[DocumentRecord, FetchedProtocol | None]:
        assert doc.url is not None
        try:
            page = await fetcher.fetch(doc.url, max_bytes=self.max_bytes)
        except ChorusError as exc:
            failed = await self._fail(doc, exc.code, f"fetching {doc.url} failed: {exc.message}")
            return failed, None
        if page.status_code >= 400:
            failed = await self._fail(
                doc, "fetch_failed", f"{doc.url} answered HTTP {page.status_code}"
            )
            return failed, None
        doc.content_type = page.content_type or doc.content_type
        return await self.ingest_bytes(kb, doc, page.content), page

    async def crawl(
        self,
        kb: KnowledgeBaseRecord,
        start_url: str,
        fetcher: FetcherProtocol,
        new_document: Callable[[str], Awaitable[DocumentRecord]],
        *,
        depth: int = 1,
        max_pages: int = 20,
    ) -> list[DocumentRecord]:
        """Breadth-first over same-site links from ``start_url``: each page becomes a
        document (made by ``new_document``), up to ``depth`` links away and ``max_pages``."""
        queue: list[tuple[str, int]] = [(start_url, 0)]
        seen = {start_url}
        documents: list[DocumentRecord] = []
        while queue and len(documents) < max_pages:
            url, level = queue.pop(0)
            doc, page = await self._fetch_and_ingest(kb, await new_document(url), fetcher)
            documents.append(doc)
            if page is None or level >= depth or page.content_type != "text/html":
                continue
            html = page.content.decode("utf-8", "replace")
            for link in same_site_links(html, page.url):
                if link not in seen:
                    seen.add(link)
                    queue.append((link, level + 1))
        return documents
