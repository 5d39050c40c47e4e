"""Coalescing a stream into batches: same items, same order, fewer hops."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from agents.coalesce import BatchPolicy, coalesce, flatten


async def _items(*items: str, gap_s: float = 0.0) -> AsyncIterator[str]:
    for item in items:
        if gap_s:
            await asyncio.sleep(gap_s)
        yield item


def _delta(item: str) -> bool:
    return item.startswith("d")


async def _batches(source: AsyncIterator[str], policy: BatchPolicy) -> list[list[str]]:
    return [batch async for batch in coalesce(source, _delta, policy)]


async def test_first_delta_alone_then_batches_flushed_before_any_other_item() -> None:
    policy = BatchPolicy(max_delay_s=10, max_items=100)
    got = await _batches(_items("start", "d1", "d2", "d3", "usage", "d4", "end"), policy)
    assert got == [["start"], ["d1"], ["d2", "d3", "usage"], ["d4", "end"]]


async def test_a_full_batch_leaves_at_once() -> None:
    policy = BatchPolicy(max_delay_s=10, max_items=2)
    got = await _batches(_items("d1", "d2", "d3", "d4", "d5", "end"), policy)
    assert got == [["d1"], ["d2", "d3"], ["d4", "d5"], ["end"]]


async def test_an_old_batch_leaves_without_waiting_for_the_next_item() -> None:
    policy = BatchPolicy(max_delay_s=0.02, max_items=100)
    arrivals: list[tuple[float, list[str]]] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    async for batch in coalesce(_items("d1", "d2", "d3", "end", gap_s=0.05), _delta, policy):
        arrivals.append((loop.time() - started, batch))
    assert [b for _, b in arrivals] == [["d1"], ["d2"], ["d3"], ["end"]]
    # d2 left about max_delay_s after it came, not when d3 came 50 ms later.
    assert arrivals[1][0] < 0.05 + 0.05 + 0.04


async def test_flattening_gives_back_the_stream() -> None:
    items = ["start", *(f"d{i}" for i in range(50)), "usage", "end"]
    policy = BatchPolicy(max_delay_s=0.001, max_items=7)
    assert [i async for i in flatten(coalesce(_items(*items), _delta, policy))] == items


async def test_disabled_policy_is_one_item_per_batch() -> None:
    got = await _batches(_items("d1", "d2", "end"), BatchPolicy(max_delay_s=0, max_items=16))
    assert got == [["d1"], ["d2"], ["end"]]


async def test_an_error_of_the_source_comes_after_what_came_before_it() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "d1"
        yield "d2"
        raise ValueError("boom")

    seen: list[list[str]] = []
    with pytest.raises(ValueError, match="boom"):
        async for batch in coalesce(failing(), _delta, BatchPolicy(max_delay_s=10)):
            seen.append(batch)
    assert seen == [["d1"], ["d2"]]


async def test_a_consumer_that_stops_early_closes_the_source() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield "d"
                await asyncio.sleep(0)
        finally:
            closed.set()

    stream = coalesce(endless(), _delta, BatchPolicy(max_delay_s=10, max_items=4))
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(closed.wait(), 1)
