"""Gateway metrics through Ray's metrics API (exported by Ray's per-node metrics agent).

Created lazily inside the replica: Ray metrics need a connected worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from agents.engine import Usage

if TYPE_CHECKING:
    from ray.util.metrics import Counter, Histogram

_LATENCY_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]


@dataclass(frozen=True)
class _GatewayMetrics:
    requests: Counter
    latency: Histogram
    ttft: Histogram
    completion: Histogram
    tokens: Counter


@cache
def _metrics() -> _GatewayMetrics:
    from ray.util import metrics

    return _GatewayMetrics(
        requests=metrics.Counter(
            "chorus_requests_total", "HTTP requests by route and status.", ("route", "status")
        ),
        latency=metrics.Histogram(
            "chorus_request_seconds", "End-to-end request latency.", _LATENCY_BOUNDS, ("route",)
        ),
        ttft=metrics.Histogram(
            "chorus_time_to_first_token_seconds",
            "Time from request to first streamed token.",
            _LATENCY_BOUNDS,
            ("model",),
        ),
        completion=metrics.Histogram(
            "chorus_completion_seconds", "Time to a complete answer.", _LATENCY_BOUNDS, ("model",)
        ),
        tokens=metrics.Counter(
            "chorus_tokens_total", "Tokens processed, prompt and completion.", ("model", "kind")
        ),
    )


def record_request(route: str, status: int, seconds: float) -> None:
    m = _metrics()
    m.requests.inc(1, {"route": route, "status": str(status)})
    m.latency.observe(seconds, {"route": route})


def record_ttft(model: str, seconds: float) -> None:
    _metrics().ttft.observe(seconds, {"model": model})


def record_completion(model: str, usage: Usage, seconds: float) -> None:
    m = _metrics()
    m.completion.observe(seconds, {"model": model})
    if usage.prompt_tokens:
        m.tokens.inc(usage.prompt_tokens, {"model": model, "kind": "prompt"})
    if usage.completion_tokens:
        m.tokens.inc(usage.completion_tokens, {"model": model, "kind": "completion"})
