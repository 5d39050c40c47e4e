"""Per-shard metrics (Ray metrics API): turns, latency, first token, live sessions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import structlog

from agents.events import Event

if TYPE_CHECKING:
    from ray.util.metrics import Counter, Gauge, Histogram

log = structlog.get_logger(__name__)

_BOUNDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]


@dataclass(frozen=True)
class _ShardMetrics:
    turns: Counter
    latency: Histogram
    ttft: Histogram
    tokens: Counter
    live: Gauge
    batch_events: Histogram
    batch_wait: Histogram


@cache
def _metrics() -> _ShardMetrics:
    from ray.util import metrics

    return _ShardMetrics(
        turns=metrics.Counter(
            "chorus_turns_total", "Chat turns by final status.", ("shard", "status")
        ),
        latency=metrics.Histogram(
            "chorus_turn_seconds",
            "Engine time of a turn, first request to last token.",
            _BOUNDS,
            ("shard",),
        ),
        ttft=metrics.Histogram(
            "chorus_turn_time_to_first_token_seconds",
            "Time to the answer's first token.",
            _BOUNDS,
            ("shard",),
        ),
        tokens=metrics.Counter(
            "chorus_turn_tokens_total", "Tokens of chat turns.", ("shard", "kind")
        ),
        live=metrics.Gauge(
            "chorus_active_sessions", "Conversations held in memory by a shard.", ("shard",)
        ),
        batch_events=metrics.Histogram(
            "chorus_stream_batch_events",
            "Events per batch a shard sends to the gateway.",
            [1, 2, 4, 8, 16, 32, 64, 128],
            ("shard",),
        ),
        batch_wait=metrics.Histogram(
            "chorus_stream_batch_wait_seconds",
            "How long a batch's first delta waited before the batch left the shard.",
            [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
            ("shard",),
        ),
    )


def observe_batch(shard: str, size: int, waited_s: float) -> None:
    """Record a batch that left the shard. Never fails the turn."""
    try:
        m = _metrics()
        m.batch_events.observe(size, {"shard": shard})
        m.batch_wait.observe(waited_s, {"shard": shard})
    except Exception as exc:  # noqa: BLE001 - metrics must not break a conversation
        log.warning("metrics_failed", error=repr(exc))


def observe(shard: str, event: Event) -> None:
    """Record what a turn's event says about the turn. Never fails the turn."""
    try:
        _observe(shard, event)
    except Exception as exc:  # noqa: BLE001 - metrics must not break a conversation
        log.warning("metrics_failed", error=repr(exc))


def _observe(shard: str, event: Event) -> None:
    m = _metrics()
    tags = {"shard": shard}
    if event.type == "usage":
        m.latency.observe(event.latency_ms / 1000, tags)
        if event.time_to_first_token_ms is not None:
            m.ttft.observe(event.time_to_first_token_ms / 1000, tags)
        for kind, value in (
            ("prompt", event.prompt_tokens),
            ("completion", event.completion_tokens),
        ):
            if value > 0:  # Ray counters refuse 0
                m.tokens.inc(value, {**tags, "kind": kind})
    elif event.type == "message_end":
        m.turns.inc(1, {**tags, "status": event.status})


def set_live(shard: str, count: int) -> None:
    _metrics().live.set(count, {"shard": shard})
