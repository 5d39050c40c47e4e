"""KnowledgeWorker: the Ray actor that ingests documents, off the request path.

Uploads reach it through Ray's object store (so it may run on another node than the
gateway); it keeps the original bytes under ``<data dir>/uploads`` for re-indexing.
Embedding batches of one document go to the embedding deployment concurrently, so a
cluster's embedding replicas share a large upload; several documents are ingested at
once. Progress is written to the store, where the API reads it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ray
import structlog

from agents.knowledge.ingest import Ingestor
from agents.knowledge.records import DocumentRecord
from agents.knowledge.store import new_document_id
from cluster.log_config import configure_logging
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
NAMESPACE = "chorus"
WORKER_NAME = "chorus-knowledge-worker"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=1000)
class KnowledgeWorker:
    def __init__(self, settings: ChorusSettings, app_name: str, embedding_deployment: str) -> None:
        from ray import serve

        from cluster.knowledge.retriever import HandleEmbedder, open_index
        from cluster.outbound.guard import GuardedFetcher, OutboundPolicy
        from cluster.store import SqlKnowledgeStore

        configure_logging(settings.log_level, settings.log_json)
        self.settings = settings
        self.store = SqlKnowledgeStore(settings.resolved_database_url())
        self.index = open_index(settings)
        embedder = HandleEmbedder(serve.get_deployment_handle(embedding_deployment, app_name))
        self.ingestor = Ingestor(
            self.store, self.index, embedder, max_bytes=settings.max_upload_bytes
        )
        self.fetcher = GuardedFetcher(
            OutboundPolicy(
                allow_hosts=settings.outbound_allow_hosts, max_bytes=settings.max_upload_bytes
            )
        )
        self.uploads = settings.data_dir / "uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self._started: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(2)

    async def _ready(self) -> None:
        if self._started is None:
            self._started = asyncio.ensure_future(self.store.start())
        await self._started

    async def ingest_upload(self, workspace_id: str, kb_id: str, doc_id: str, data: bytes) -> str:
        await self._ready()
        (self.uploads / doc_id).write_bytes(data)
        async with self._slots:
            kb = await self.store.get_kb(workspace_id, kb_id)
            doc = await self.store.get_document(workspace_id, kb_id, doc_id)
            return (await self.ingestor.ingest_bytes(kb, doc, data)).status

    async def ingest_url(self, workspace_id: str, kb_id: str, doc_id: str) -> str:
        await self._ready()
        async with self._slots:
            kb = await self.store.get_kb(workspace_id, kb_id)
            doc = await self.store.get_document(workspace_id, kb_id, doc_id)
            return (await self.ingestor.ingest_url(kb, doc, self.fetcher)).status

    async def reindex(self, workspace_id: str, kb_id: str, doc_id: str) -> str:
        await self._ready()
        doc = await self.store.get_document(workspace_id, kb_id, doc_id)
        if doc.source == "url":
            return await self.ingest_url(workspace_id, kb_id, doc_id)
        saved = self.uploads / doc_id
        if not saved.is_file():
            await self.ingestor._fail(doc, "source_missing", "the uploaded file is gone")
            return "failed"
        return await self.ingest_upload(workspace_id, kb_id, doc_id, saved.read_bytes())

    async def crawl(
        self, workspace_id: str, kb_id: str, start_url: str, depth: int, max_pages: int
    ) -> list[str]:
        await self._ready()
        kb = await self.store.get_kb(workspace_id, kb_id)

        async def new_document(url: str) -> DocumentRecord:
            return await self.store.add_document(
                DocumentRecord(
                    id=new_document_id(),
                    kb_id=kb_id,
                    workspace_id=workspace_id,
                    name=url,
                    source="url",
                    url=url,
                )
            )

        async with self._slots:
            docs = await self.ingestor.crawl(
                kb, start_url, self.fetcher, new_document, depth=depth, max_pages=max_pages
            )
        return [d.id for d in docs]

    def forget(self, doc_id: str) -> None:
        (self.uploads / doc_id).unlink(missing_ok=True)

    def info(self) -> dict[str, Any]:
        return {"uploads": len(list(self.uploads.iterdir()))}
