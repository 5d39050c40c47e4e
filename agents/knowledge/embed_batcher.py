"""Coalesce small embedding requests from concurrent ingestions into full batches.

A knowledge base is often many small documents (a crawl, a folder of FAQs): each gives
a couple of chunks, and embedding them one document per call pays the per-call cost
(a Ray handle round trip, the model's fixed work per batch) for every document. The
batcher queues the texts of all callers and sends them in batches of up to
``batch_size``, waiting at most ``max_wait_s`` for a batch to fill. Each caller gets
back exactly its own vectors, in order; a failed call fails only the callers whose
texts were in it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal, Protocol

InputType = Literal["query", "passage"]


class EmbedderProtocol(Protocol):
    async def embed(self, texts: list[str], input_type: InputType) -> list[list[float]]: ...


@dataclass
class _Request:
    texts: list[str]
    future: asyncio.Future[list[list[float]]]
    vectors: list[list[float] | None] = field(default_factory=list)
    pending: int = 0


class BatchingEmbedder:
    """An :class:`EmbedderProtocol` that merges concurrent calls (per input type)."""

    def __init__(
        self,
        inner: EmbedderProtocol,
        *,
        batch_size: int = 32,
        max_wait_s: float = 0.02,
        max_in_flight: int = 4,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.inner = inner
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        self._gate = asyncio.Semaphore(max_in_flight)
        self._queues: dict[InputType, list[tuple[_Request, int]]] = {"query": [], "passage": []}
        self._flushers: dict[InputType, asyncio.Task[None] | None] = {
            "query": None,
            "passage": None,
        }
        self._full: dict[InputType, asyncio.Event] = {
            "query": asyncio.Event(),
            "passage": asyncio.Event(),
        }
        self._sends: set[asyncio.Task[None]] = set()  # strong references while running
        self.calls = 0

    async def embed(self, texts: list[str], input_type: InputType) -> list[list[float]]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        request = _Request(texts=list(texts), future=loop.create_future())
        request.vectors = [None] * len(texts)
        request.pending = len(texts)
        queue = self._queues[input_type]
        queue.extend((request, i) for i in range(len(texts)))
        if len(queue) >= self.batch_size:
            self._full[input_type].set()
        flusher = self._flushers[input_type]
        if flusher is None or flusher.done():
            self._flushers[input_type] = asyncio.ensure_future(self._flush_loop(input_type))
        return await request.future

    async def _flush_loop(self, input_type: InputType) -> None:
        # No await between the last check of ``queue`` and returning: a caller that
        # finds this task done starts a new one, and one that does not is served here.
        queue, full = self._queues[input_type], self._full[input_type]
        while queue:
            if len(queue) < self.batch_size:
                full.clear()
                try:
                    await asyncio.wait_for(full.wait(), self.max_wait_s)
                except TimeoutError:
                    pass
            batch = [item for item in queue[: self.batch_size] if not item[0].future.done()]
            del queue[: self.batch_size]
            if not batch:  # every caller in it failed or was cancelled meanwhile
                continue
            await self._gate.acquire()
            task = asyncio.ensure_future(self._send(batch, input_type))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _send(self, batch: list[tuple[_Request, int]], input_type: InputType) -> None:
        try:
            self.calls += 1
            vectors = await self.inner.embed([r.texts[i] for r, i in batch], input_type)
            if len(vectors) != len(batch):
                raise RuntimeError(
                    f"the embedder returned {len(vectors)} vectors for {len(batch)} texts"
                )
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for request, _ in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._gate.release()
        for (request, i), vector in zip(batch, vectors, strict=True):
            if request.future.done():
                continue
            request.vectors[i] = vector
            request.pending -= 1
            if request.pending == 0:
                request.future.set_result([v for v in request.vectors if v is not None])
