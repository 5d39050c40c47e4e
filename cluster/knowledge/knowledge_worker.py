"""KnowledgeWorker: the Ray actor that ingests documents, off the request path.

Uploads reach it through Ray's object store (so it may run on another node than the
gateway); it keeps the original bytes under ``<data dir>/uploads`` for re-indexing.
A large upload is parsed and chunked in a Ray task (one CPU, anywhere in the cluster),
so several large documents are prepared in parallel and the actor's event loop stays
free; its embedding batches go to the embedding deployment concurrently, so a cluster's
embedding replicas share it, and small documents ingested together share batches.
Progress is written to the store, where the API reads it. Once a knowledge base has
been quiet for a few seconds after ingestion, its index is optimised (compaction, the
approximate vector index); the index stays searchable meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import TypedDict, TypeVar

import ray
import structlog
from ray import ObjectRef
from ray.actor import ActorHandle

from agents import error_codes
from agents.ids import new_id
from agents.knowledge.ingest import Ingestor, PreparedDocument, prepare_document
from agents.knowledge.parsing import DocumentError
from agents.knowledge.records import ChunkingSpec, DocumentRecord
from cluster.actor_calls import call_actor
from cluster.log_config import configure_logging
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
NAMESPACE = "chorus"
WORKER_NAME = "chorus-knowledge-worker"
#: Uploads at least this large are parsed and chunked in a Ray task, not in the actor.
RAY_TASK_MIN_BYTES = 256 * 1024
#: Seconds without ingestion into a knowledge base before its index is optimised.
OPTIMIZE_AFTER_S = 5.0
T = TypeVar("T")


class WorkerInfo(TypedDict):
    """What :meth:`KnowledgeWorker.info` reports (tests and benchmarks)."""

    uploads: int
    optimized: int
    prepared_in_tasks: int


@ray.remote(num_cpus=1, max_retries=1)
def prepare_task(
    data: bytes, name: str, content_type: str, spec: ChunkingSpec
) -> PreparedDocument | tuple[str, str]:
    """Parse and chunk one document; a bad document comes back as (code, reason)."""
    try:
        return prepare_document(data, name, content_type, spec)
    except DocumentError as exc:
        return (exc.code, exc.message)


# Ray's overloads of ray.remote(...) list task options only; max_concurrency is an actor's.
@ray.remote(  # type: ignore[call-overload]
    num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=1000
)
class KnowledgeWorker:
    def __init__(self, settings: ChorusSettings, app_name: str) -> None:
        from cluster.runtime import build_services, outbound_guard

        configure_logging(settings.log_level, settings.log_json)
        self.settings = settings
        self.services = build_services(settings, app_name)
        self.store = self.services.stores.knowledge
        self.index = self.services.index
        self.ingestor = Ingestor(
            self.store,
            self.index,
            self.services.embedder,
            max_bytes=settings.max_upload_bytes,
            prepare=self._prepare,
        )
        self.fetcher = outbound_guard(settings, max_bytes=settings.max_upload_bytes)
        self.uploads = settings.data_dir / "uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self._slots = asyncio.Semaphore(4)
        self._last_write: dict[str, float] = {}
        self._optimizers: dict[str, asyncio.Task[None]] = {}
        self.optimized = 0
        self.prepared_in_tasks = 0

    async def _prepare(
        self, data: bytes, name: str, content_type: str, spec: ChunkingSpec
    ) -> PreparedDocument:
        if len(data) < RAY_TASK_MIN_BYTES:
            return await asyncio.to_thread(prepare_document, data, name, content_type, spec)
        self.prepared_in_tasks += 1
        result = await prepare_task.remote(data, name, content_type, spec)
        if isinstance(result, tuple):
            code, reason = result
            raise DocumentError(reason, code=code)
        return result

    def _written(self, kb_id: str) -> None:
        """Ingestion into ``kb_id`` ended: optimise its index once it has been quiet."""
        self._last_write[kb_id] = asyncio.get_running_loop().time()
        task = self._optimizers.get(kb_id)
        if task is None or task.done():
            self._optimizers[kb_id] = asyncio.ensure_future(self._optimize_when_quiet(kb_id))

    async def _optimize_when_quiet(self, kb_id: str) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._last_write[kb_id] + OPTIMIZE_AFTER_S - loop.time()) > 0:
            await asyncio.sleep(wait)
        try:
            await self.index.optimize(kb_id)
            self.optimized += 1
            log.info("knowledge_index_optimized", kb_id=kb_id)
        except Exception as exc:  # noqa: BLE001 - housekeeping; searches work without it
            log.warning("knowledge_index_optimize_failed", kb_id=kb_id, error=str(exc))

    async def settle(self) -> None:
        """Wait for pending index optimisations (tests and benchmarks)."""
        tasks = [t for t in self._optimizers.values() if not t.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _ready(self) -> None:
        await self.services.start()

    async def ingest_upload(self, workspace_id: str, kb_id: str, doc_id: str, data: bytes) -> str:
        await self._ready()
        (self.uploads / doc_id).write_bytes(data)
        async with self._slots:
            kb = await self.store.get_kb(workspace_id, kb_id)
            doc = await self.store.get_document(workspace_id, kb_id, doc_id)
            try:
                return (await self.ingestor.ingest_bytes(kb, doc, data)).status
            finally:
                self._written(kb_id)

    async def ingest_url(self, workspace_id: str, kb_id: str, doc_id: str) -> str:
        await self._ready()
        async with self._slots:
            kb = await self.store.get_kb(workspace_id, kb_id)
            doc = await self.store.get_document(workspace_id, kb_id, doc_id)
            try:
                return (await self.ingestor.ingest_url(kb, doc, self.fetcher)).status
            finally:
                self._written(kb_id)

    async def reindex(self, workspace_id: str, kb_id: str, doc_id: str) -> str:
        await self._ready()
        doc = await self.store.get_document(workspace_id, kb_id, doc_id)
        if doc.source == "url":
            return await self.ingest_url(workspace_id, kb_id, doc_id)
        saved = self.uploads / doc_id
        if not saved.is_file():
            await self.ingestor._fail(doc, error_codes.SOURCE_MISSING, "the uploaded file is gone")
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
                    id=new_id("doc"),
                    kb_id=kb_id,
                    workspace_id=workspace_id,
                    name=url,
                    source="url",
                    url=url,
                )
            )

        async with self._slots:
            try:
                docs = await self.ingestor.crawl(
                    kb, start_url, self.fetcher, new_document, depth=depth, max_pages=max_pages
                )
            finally:
                self._written(kb_id)
        return [d.id for d in docs]

    def forget(self, doc_id: str) -> None:
        (self.uploads / doc_id).unlink(missing_ok=True)

    def info(self) -> WorkerInfo:
        return {
            "uploads": len(list(self.uploads.iterdir())),
            "optimized": self.optimized,
            "prepared_in_tasks": self.prepared_in_tasks,
        }


class WorkerQueue:
    """:class:`agents.knowledge.service.IngestionQueueProtocol` over the KnowledgeWorker
    actor (created on first use, detached, shared by every gateway replica). Each call
    returns at once; the work goes on in the actor, whose outcome is in the store."""

    def __init__(self, settings: ChorusSettings, app_name: str) -> None:
        self._args = (settings, app_name)
        self._worker: ActorHandle[KnowledgeWorker] | None = None
        self._jobs: set[asyncio.Future[None]] = set()

    def worker(self) -> ActorHandle[KnowledgeWorker]:
        if self._worker is None:
            # @ray.remote makes KnowledgeWorker an ActorClass; mypy keeps the plain class.
            self._worker = KnowledgeWorker.options(  # type: ignore[attr-defined]
                name=WORKER_NAME, namespace=NAMESPACE, get_if_exists=True, lifetime="detached"
            ).remote(*self._args)
        return self._worker

    def _track(self, ref: ObjectRef[T]) -> None:
        """Keep a worker call alive until it ends; a crash is logged (the worker records
        every outcome it reaches in the store)."""
        future = asyncio.ensure_future(_settled(ref))
        self._jobs.add(future)
        future.add_done_callback(self._jobs.discard)

    def ingest_upload(self, workspace_id: str, kb_id: str, doc_id: str, data: bytes) -> None:
        worker = self.worker()
        self._track(
            call_actor(worker, KnowledgeWorker.ingest_upload, workspace_id, kb_id, doc_id, data)
        )

    def ingest_url(self, workspace_id: str, kb_id: str, doc_id: str) -> None:
        worker = self.worker()
        self._track(call_actor(worker, KnowledgeWorker.ingest_url, workspace_id, kb_id, doc_id))

    def crawl(self, workspace_id: str, kb_id: str, url: str, depth: int, max_pages: int) -> None:
        worker = self.worker()
        self._track(
            call_actor(worker, KnowledgeWorker.crawl, workspace_id, kb_id, url, depth, max_pages)
        )

    def reindex(self, workspace_id: str, kb_id: str, doc_id: str) -> None:
        worker = self.worker()
        self._track(call_actor(worker, KnowledgeWorker.reindex, workspace_id, kb_id, doc_id))

    def forget(self, doc_id: str) -> None:
        call_actor(self.worker(), KnowledgeWorker.forget, doc_id)


async def _settled(ref: ObjectRef[T]) -> None:
    try:
        await ref
    except Exception as exc:  # noqa: BLE001 - the worker records outcomes; this is a crash
        log.error("knowledge_job_failed", error=repr(exc))
