"""Coalescing a stream into batches where it crosses a process (DESIGN decision 10).

Every hop between processes (engine replica → session shard → gateway → client) costs
per item, whatever the item holds. :func:`coalesce` turns a stream of items into a
stream of batches: the first batchable item (a turn's first delta, a model's first
token) leaves at once, alone; later batchable items wait in a batch that leaves when it
is ``max_delay_s`` old or holds ``max_items``; any other item flushes the waiting batch
and goes with it, at once. Order never changes; only the grouping does, so a consumer
that unpacks the batches sees exactly the stream it would have seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class BatchPolicy:
    """When a batch of batchable items leaves (the first one always leaves alone)."""

    max_delay_s: float = 0.01
    max_items: int = 16

    @property
    def enabled(self) -> bool:
        return self.max_delay_s > 0 and self.max_items > 1


class _End:
    """The source is exhausted (or failed with ``error``)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Pump(Generic[T]):
    """Reads the source in a task of its own, so waiting for a batch to age never
    cancels a pending read of the source (which would throw into the generator)."""

    def __init__(self, source: AsyncIterator[T], bound: int) -> None:
        #: Bounded: a consumer that stops reading pauses the source.
        self.queue: asyncio.Queue[T | _End] = asyncio.Queue(maxsize=bound)
        self.source = source
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.source:
                await self.queue.put(item)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which re-raises
            await self.queue.put(_End(exc))
            return
        await self.queue.put(_End())

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        aclose = getattr(self.source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def coalesce(
    source: AsyncIterator[T],
    batchable: Callable[[T], bool],
    policy: BatchPolicy = BatchPolicy(),  # noqa: B008 - frozen, shared safely
    *,
    first_alone: Callable[[T], bool] | None = None,
    on_flush: Callable[[int, float], None] | None = None,
) -> AsyncIterator[list[T]]:
    """The items of ``source`` in batches, in order (see the module docstring).

    ``batchable(item)`` says which items may wait (deltas, tokens); ``first_alone``
    (default: the first batchable item of the stream) says which one leaves at once.
    ``on_flush(size, waited_s)`` hears of every batch that leaves (for metrics).
    An error of the source is raised after the batch before it has been yielded.
    """
    if not policy.enabled:
        async for item in source:
            yield [item]
        return
    flushed = on_flush or _ignore
    is_first = first_alone or _first_only()
    pump: _Pump[T] = _Pump(source, policy.max_items)
    batch: list[T] = []
    pending = 0  # batchable items in ``batch``
    started = 0.0

    def leaving() -> list[T]:
        flushed(len(batch), time.monotonic() - started if pending else 0.0)
        return batch

    try:
        while True:
            if pending:
                remaining = started + policy.max_delay_s - time.monotonic()
                if remaining <= 0:
                    yield leaving()
                    batch, pending = [], 0
                    continue
                try:
                    got = await asyncio.wait_for(pump.queue.get(), remaining)
                except TimeoutError:
                    yield leaving()
                    batch, pending = [], 0
                    continue
            else:
                got = await pump.queue.get()
            if isinstance(got, _End):
                if batch:
                    yield leaving()
                if got.error is not None:
                    raise got.error
                return
            if batchable(got) and not is_first(got):
                if not pending:
                    started = time.monotonic()
                batch.append(got)
                pending += 1
                if pending >= policy.max_items:
                    yield leaving()
                    batch, pending = [], 0
            else:  # leaves now, after whatever waits before it
                batch.append(got)
                yield leaving()
                batch, pending = [], 0
    finally:
        await pump.close()


def _ignore(size: int, waited_s: float) -> None:
    pass


def _first_only() -> Callable[[object], bool]:
    """True for the first item it is asked about (then False)."""
    seen = False

    def first(_item: object) -> bool:
        nonlocal seen
        if seen:
            return False
        seen = True
        return True

    return first


async def flatten(batches: AsyncIterator[list[T]]) -> AsyncIterator[T]:
    """The items of a batched stream, one by one."""
    async for batch in batches:
        for item in batch:
            yield item
