"""The ``scripted`` engine kind: one reply, repeated for every request, no process."""

from __future__ import annotations

from agents.engine import ChatRequest
from agents.scripted_engine import ScriptedEngine
from cluster.settings import EngineSettings


def scripted_engine(settings: EngineSettings) -> ScriptedEngine:
    """A fast deterministic engine for benchmarks and load tests.

    ScriptedEngine records every request for test assertions; a load test would grow
    that list without bound, so the replica keeps only the last few."""
    engine = ScriptedEngine(
        [settings.scripted_reply],
        model=settings.name,
        delay=settings.scripted_token_delay_s,
        context_window=settings.context_window,
    )
    engine.requests = _RecentRequests()
    return engine


class _RecentRequests(list[ChatRequest]):
    """A list that keeps only its last :attr:`keep` items."""

    keep = 8

    def append(self, item: ChatRequest) -> None:
        super().append(item)
        if len(self) > self.keep:
            del self[: len(self) - self.keep]
