"""The embedding batcher: concurrent small requests share calls, each caller gets its
own vectors in order, and a failed call fails only its own callers."""

from __future__ import annotations

import asyncio

import pytest

from agents.errors import UpstreamUnavailableError
from agents.knowledge.embed_batcher import BatchingEmbedder


class RecordingEmbedder:
    def __init__(self, fail_on: str | None = None, delay: float = 0.0) -> None:
        self.calls: list[list[str]] = []
        self.fail_on = fail_on
        self.delay = delay

    async def embed(self, texts: list[str], input_type: str) -> list[list[float]]:
        self.calls.append(list(texts))
        await asyncio.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in texts:
            raise UpstreamUnavailableError("embedder down")
        return [[float(len(t)), 1.0 if input_type == "query" else 0.0] for t in texts]


async def test_concurrent_requests_share_one_call_and_keep_their_order() -> None:
    inner = RecordingEmbedder()
    batcher = BatchingEmbedder(inner, batch_size=32, max_wait_s=0.05)
    docs = [[f"doc{d}-chunk{'x' * c}" for c in range(3)] for d in range(5)]
    results = await asyncio.gather(*(batcher.embed(texts, "passage") for texts in docs))
    assert len(inner.calls) == 1 and len(inner.calls[0]) == 15
    for texts, vectors in zip(docs, results, strict=True):
        assert vectors == [[float(len(t)), 0.0] for t in texts]


async def test_full_batches_go_without_waiting_and_large_requests_are_split() -> None:
    inner = RecordingEmbedder()
    batcher = BatchingEmbedder(inner, batch_size=4, max_wait_s=10.0)
    texts = [f"t{i}" for i in range(8)]
    vectors = await asyncio.wait_for(batcher.embed(texts, "passage"), timeout=2)
    assert [len(c) for c in inner.calls] == [4, 4]
    assert vectors == [[float(len(t)), 0.0] for t in texts]


async def test_query_and_passage_texts_are_never_mixed() -> None:
    inner = RecordingEmbedder()
    batcher = BatchingEmbedder(inner, batch_size=32, max_wait_s=0.02)
    q, p = await asyncio.gather(batcher.embed(["a"], "query"), batcher.embed(["b"], "passage"))
    assert q == [[1.0, 1.0]] and p == [[1.0, 0.0]]
    assert sorted(inner.calls) == [["a"], ["b"]]


async def test_a_failed_call_fails_only_its_callers() -> None:
    inner = RecordingEmbedder(fail_on="bad")
    batcher = BatchingEmbedder(inner, batch_size=2, max_wait_s=0.01)
    first = asyncio.ensure_future(batcher.embed(["bad", "also in the failed batch"], "passage"))
    await asyncio.sleep(0.05)
    second = await batcher.embed(["fine"], "passage")
    with pytest.raises(UpstreamUnavailableError):
        await first
    assert second == [[4.0, 0.0]]


async def test_in_flight_calls_are_bounded() -> None:
    inner = RecordingEmbedder(delay=0.05)
    batcher = BatchingEmbedder(inner, batch_size=1, max_wait_s=0.0, max_in_flight=2)
    running = peak = 0
    original = inner.embed

    async def counting(texts: list[str], input_type: str) -> list[list[float]]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return await original(texts, input_type)
        finally:
            running -= 1

    inner.embed = counting  # type: ignore[method-assign]
    await batcher.embed([f"t{i}" for i in range(6)], "passage")
    assert peak == 2 and len(inner.calls) == 6


async def test_empty_request_makes_no_call() -> None:
    inner = RecordingEmbedder()
    assert await BatchingEmbedder(inner).embed([], "passage") == []
    assert inner.calls == []


async def test_requests_arriving_while_a_call_is_in_flight_are_served() -> None:
    inner = RecordingEmbedder(delay=0.05)
    batcher = BatchingEmbedder(inner, batch_size=2, max_wait_s=0.0)
    first = asyncio.ensure_future(batcher.embed(["a", "b"], "passage"))
    await asyncio.sleep(0.01)  # the first call is out, its flusher has finished
    later = await asyncio.wait_for(batcher.embed(["c"], "passage"), timeout=2)
    assert later == [[1.0, 0.0]] and len(await first) == 2
