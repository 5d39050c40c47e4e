"""Rate limits and quotas: requests per minute, concurrent streams and tokens per day, per
subject (an API key, an app, an end user of an app).

:class:`LimitBook` is the bookkeeping, with no I/O: one instance must see every request
of a subject for the limits to hold (the server keeps it in one Ray actor shared by
every gateway replica, ``cluster/limits.py``). Admission is all or nothing: a request
that one of its subjects refuses counts against none of them. A stream holds a lease
until it is released (with the tokens it used) or, if its replica died, until the
lease expires.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents import error_codes
from agents.errors import RateLimitedError
from agents.ids import new_id

WINDOW_S = 60.0


class Limits(BaseModel):
    """The limits of one subject; None is no limit."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(default=None, ge=1)
    concurrent_streams: int | None = Field(default=None, ge=1)
    tokens_per_day: int | None = Field(
        default=None, ge=1, description="Prompt and completion tokens per UTC day."
    )

    def any(self) -> bool:
        return any(v is not None for v in self.model_dump().values())


@dataclass(frozen=True)
class Subject:
    """Who a limit is counted for: ``key:<id>``, ``app:<id>``, ``end_user:<app>:<id>``."""

    id: str
    limits: Limits
    #: Count this request against the per-minute limit (a key's requests are counted
    #: once, at the edge; its turns count only streams and tokens).
    count_request: bool = True


class LimitExceededError(RateLimitedError):
    """A subject's limit is reached: 429 with ``Retry-After``."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.details.setdefault("retry_after", max(1, round(retry_after)))


def today(now: float) -> str:
    return datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d")


def _to_midnight(now: float) -> float:
    moment = datetime.fromtimestamp(now, tz=UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - moment).total_seconds()


@dataclass
class LimitBook:
    """Counters of every subject. ``clock``: seconds (time.time)."""

    clock: Callable[[], float]
    lease_ttl_s: float = 900.0
    _requests: dict[str, deque[float]] = field(default_factory=dict)
    #: lease id -> (subject ids, expiry)
    _leases: dict[str, tuple[tuple[str, ...], float]] = field(default_factory=dict)
    _streams: dict[str, int] = field(default_factory=dict)
    #: (subject, UTC day) -> tokens used
    tokens: dict[tuple[str, str], int] = field(default_factory=dict)

    def admit(self, subjects: list[Subject], *, stream: bool) -> str | None:
        """Count a request (and, with ``stream``, open a lease: its id); a limit reached
        raises :class:`LimitExceededError` and counts nothing."""
        now = self.clock()
        self._expire(now)
        day = today(now)
        for subject in subjects:
            self._check(subject, now, day, stream)
        for subject in subjects:
            if subject.count_request and subject.limits.requests_per_minute is not None:
                self._requests.setdefault(subject.id, deque()).append(now)
        if not stream:
            return None
        lease = new_id("lease")
        held = tuple(s.id for s in subjects if s.limits.concurrent_streams is not None)
        for subject_id in held:
            self._streams[subject_id] = self._streams.get(subject_id, 0) + 1
        self._leases[lease] = (held, now + self.lease_ttl_s)
        return lease

    def _check(self, subject: Subject, now: float, day: str, stream: bool) -> None:
        limits = subject.limits
        rpm = limits.requests_per_minute
        if subject.count_request and rpm is not None:
            window = self._requests.setdefault(subject.id, deque())
            while window and window[0] <= now - WINDOW_S:
                window.popleft()
            if len(window) >= rpm:
                raise LimitExceededError(
                    f"{subject.id}: {rpm} requests per minute reached",
                    retry_after=window[0] + WINDOW_S - now,
                    details={"subject": subject.id, "limit": "requests_per_minute"},
                )
        streams = limits.concurrent_streams
        if stream and streams is not None and self._streams.get(subject.id, 0) >= streams:
            raise LimitExceededError(
                f"{subject.id}: {streams} concurrent streams reached; wait for one to end",
                retry_after=1.0,
                details={"subject": subject.id, "limit": "concurrent_streams"},
            )
        quota = limits.tokens_per_day
        if quota is not None and self.tokens.get((subject.id, day), 0) >= quota:
            raise LimitExceededError(
                f"{subject.id}: the daily quota of {quota} tokens is used up",
                code=error_codes.QUOTA_EXCEEDED,
                retry_after=_to_midnight(now),
                details={"subject": subject.id, "limit": "tokens_per_day"},
            )

    def release(self, lease: str | None) -> None:
        held = self._leases.pop(lease, None) if lease is not None else None
        for subject_id in held[0] if held else ():
            self._streams[subject_id] = max(0, self._streams.get(subject_id, 0) - 1)

    def add_tokens(self, subject_ids: list[str], tokens: int) -> str:
        """Count ``tokens`` for each subject today; returns the day."""
        day = today(self.clock())
        for subject_id in subject_ids:
            key = (subject_id, day)
            self.tokens[key] = self.tokens.get(key, 0) + tokens
        return day

    def streams(self, subject_id: str) -> int:
        self._expire(self.clock())
        return self._streams.get(subject_id, 0)

    def _expire(self, now: float) -> None:
        for lease in [k for k, (_, expiry) in self._leases.items() if expiry <= now]:
            self.release(lease)
