"""The rate limits' one counter for the whole instance, and the gateways' client of it.

Limits must hold across gateway replicas: N replicas each counting in memory would let
N times the limit through. So the counters live in one Ray actor (``LimitsActor``,
named, detached, created by the first gateway that needs it), and every replica asks
it. Daily token usage is also written to the store (``token_usage``), and an actor that
restarts reads a subject's day back before it judges it, so quotas survive restarts.

A request costs the actor call only when one of its subjects has a limit: callers with
no limits (the default) never reach the actor.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import ray
from ray.actor import ActorHandle
from ray.exceptions import RayActorError, RayError

from agents import error_codes
from agents.errors import UpstreamUnavailableError
from agents.events import Event, UsageEvent
from agents.limits import LimitBook, LimitExceededError, Subject, today
from cluster.actor_calls import call_actor
from cluster.sessions.session_shard import NAMESPACE
from cluster.store.usage_store import SqlUsageStore

Refusal = dict[str, Any]
LIMITS_ACTOR_PREFIX = "chorus-limits-"
R = TypeVar("R")
P = ParamSpec("P")


@ray.remote(num_cpus=0)
class LimitsActor:
    """The counters (:class:`LimitBook`) and the daily usage in the store."""

    def __init__(self, database_url: str) -> None:
        self.book = LimitBook(time.time)
        self.usage = SqlUsageStore(database_url)
        self._started = False
        #: (subject, day) read back from the store already
        self._loaded: set[tuple[str, str]] = set()

    async def _load(self, subjects: list[Subject]) -> None:
        if not self._started:
            await self.usage.start()
            self._started = True
        day = today(time.time())
        for subject in subjects:
            key = (subject.id, day)
            if subject.limits.tokens_per_day is not None and key not in self._loaded:
                stored = await self.usage.used(subject.id, day)
                self.book.tokens[key] = max(self.book.tokens.get(key, 0), stored)
                self._loaded.add(key)

    async def admit(self, subjects: list[Subject], stream: bool) -> tuple[str | None, Refusal]:
        """(lease, {}) or (None, the refusal): a verdict, not an exception, so that it
        crosses Ray whole."""
        await self._load(subjects)
        try:
            return self.book.admit(subjects, stream=stream), {}
        except LimitExceededError as exc:
            return None, {
                "message": exc.message,
                "code": exc.code,
                "retry_after": exc.retry_after,
                "details": exc.details,
            }

    async def release(self, lease: str | None, subject_ids: list[str], tokens: int) -> None:
        self.book.release(lease)
        if tokens > 0 and subject_ids:
            day = self.book.add_tokens(subject_ids, tokens)
            await self._load([])
            await self.usage.add(subject_ids, day, tokens)

    async def streams(self, subject_id: str) -> int:
        return self.book.streams(subject_id)


@dataclass
class Lease:
    """A stream admitted under limits; release it with the tokens it used."""

    limiter: Limiter
    lease: str | None
    token_subjects: list[str]

    async def release(self, tokens: int) -> None:
        await self.limiter.release(self, tokens)


class Limiter:
    """A gateway replica's client of the one :class:`LimitsActor`."""

    def __init__(self, database_url: str, app_name: str) -> None:
        self._url = database_url
        self.name = LIMITS_ACTOR_PREFIX + app_name
        self._handle: ActorHandle[LimitsActor] | None = None

    def actor(self) -> ActorHandle[LimitsActor]:
        if self._handle is None:
            # @ray.remote makes LimitsActor an ActorClass; mypy keeps the plain class.
            self._handle = LimitsActor.options(  # type: ignore[attr-defined]
                name=self.name, namespace=NAMESPACE, get_if_exists=True, lifetime="detached"
            ).remote(self._url)
        return self._handle

    async def admit(self, subjects: list[Subject], *, stream: bool) -> Lease | None:
        """Count a request (a stream: hold a lease, returned); None when no subject has
        a limit or nothing is held.
        A limit reached raises :class:`LimitExceededError` (429, Retry-After)."""
        limited = [s for s in subjects if s.limits.any()]
        if not limited:
            return None
        lease, refusal = await self._call(LimitsActor.admit, limited, stream)
        if refusal:
            raise LimitExceededError(
                refusal["message"],
                code=refusal["code"],
                retry_after=refusal["retry_after"],
                details=refusal["details"],
            )
        if not stream:
            return None  # counted; nothing to release
        counted = [s.id for s in limited if s.limits.tokens_per_day is not None]
        return Lease(self, lease, counted)

    async def release(self, lease: Lease, tokens: int) -> None:
        await self._call(LimitsActor.release, lease.lease, lease.token_subjects, tokens)

    async def _call(
        self,
        method: Callable[Concatenate[LimitsActor, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Call the actor; one that died is made again (it reads the day's usage back
        from the store), once, before the call fails as a 503."""
        for attempt in (1, 2):
            try:
                return await call_actor(self.actor(), method, *args, **kwargs)
            except RayActorError as exc:
                self._handle = None
                if attempt == 2:
                    raise _unavailable() from exc
            except RayError as exc:
                raise _unavailable() from exc
        raise AssertionError("unreachable")


def _unavailable() -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        "the rate limiter is unavailable; retry shortly",
        code=error_codes.SERVICE_UNAVAILABLE,
        retry_after=5.0,
    )


async def metered(events: AsyncIterator[Event], lease: Lease | None) -> AsyncIterator[Event]:
    """The turn's events as they come; at the end (or on a stop or a failure) the lease
    is released with the tokens the turn's ``usage`` events counted."""
    if lease is None:
        async for event in events:
            yield event
        return
    tokens = 0
    try:
        async for event in events:
            if isinstance(event, UsageEvent):
                tokens += event.prompt_tokens + event.completion_tokens
            yield event
    finally:
        await lease.release(tokens)
