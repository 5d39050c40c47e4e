"""LimitBook: requests per minute, concurrent streams and daily tokens, all or nothing."""

from __future__ import annotations

import pytest

from agents import error_codes
from agents.limits import LimitBook, LimitExceededError, Limits, Subject

DAY0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Clock:
    def __init__(self) -> None:
        self.now = DAY0 + 3600

    def __call__(self) -> float:
        return self.now


def refused(book: LimitBook, subjects: list[Subject], stream: bool = False) -> LimitExceededError:
    with pytest.raises(LimitExceededError) as exc:
        book.admit(subjects, stream=stream)
    return exc.value


def test_requests_per_minute_slide() -> None:
    clock = Clock()
    book = LimitBook(clock)
    key = Subject("key:k", Limits(requests_per_minute=2))
    book.admit([key], stream=False)
    clock.now += 10
    book.admit([key], stream=False)
    err = refused(book, [key])
    assert err.status_code == 429 and err.code == error_codes.RATE_LIMITED
    assert err.retry_after == pytest.approx(50)
    clock.now += 50.5  # the first request left the window
    book.admit([key], stream=False)


def test_a_refusal_counts_against_no_subject() -> None:
    book = LimitBook(Clock())
    app = Subject("app:a", Limits(requests_per_minute=10))
    user = Subject("end_user:a:u", Limits(requests_per_minute=1))
    book.admit([app, user], stream=False)
    for _ in range(5):
        refused(book, [app, user])
    for _ in range(9):  # the app's 10, less the one admitted: the refusals took none
        book.admit([app], stream=False)
    refused(book, [app])


def test_streams_are_leases_released_or_expired() -> None:
    clock = Clock()
    book = LimitBook(clock, lease_ttl_s=60)
    key = Subject("key:k", Limits(concurrent_streams=2), count_request=False)
    first = book.admit([key], stream=True)
    book.admit([key], stream=True)
    assert refused(book, [key], stream=True).details["limit"] == "concurrent_streams"
    book.admit([key], stream=False)  # a request that streams nothing is not held back
    book.release(first)
    book.release(first)  # twice is once
    assert book.streams("key:k") == 1
    book.admit([key], stream=True)
    clock.now += 61  # their replica died: the leases run out
    assert book.streams("key:k") == 0


def test_daily_tokens_renew_at_midnight_utc() -> None:
    clock = Clock()
    book = LimitBook(clock)
    app = Subject("app:a", Limits(tokens_per_day=100))
    book.admit([app], stream=False)
    book.add_tokens(["app:a"], 60)
    book.admit([app], stream=False)
    book.add_tokens(["app:a"], 60)  # a turn may run past the quota; the next is refused
    err = refused(book, [app])
    assert err.code == error_codes.QUOTA_EXCEEDED
    assert err.retry_after == pytest.approx(23 * 3600)
    clock.now = DAY0 + 24 * 3600 + 1
    book.admit([app], stream=False)
