"""HandleEngine counts prompt tokens locally when its kind can, without a Serve call."""

from __future__ import annotations

from typing import Any

from agents.engine import ChatCompletionChunk, ChatMessage, ChatRequest, Usage
from agents.scripted_engine import ScriptedTokenCounter
from agents.tokens import EstimatedTokenCounter
from cluster.engines.handle_engine import HandleEngine
from cluster.engines.kinds import local_token_counters
from cluster.settings import EngineSettings

MESSAGES = [ChatMessage(role="user", content="How are you today?")]


class _Refuses:
    def remote(self, *args: Any) -> Any:
        raise AssertionError("counted through the replica")


class _Stream:
    def __init__(self, batches: list[list[ChatCompletionChunk]]) -> None:
        self._batches = iter(batches)
        self.cancelled = False

    async def __anext__(self) -> list[ChatCompletionChunk]:
        try:
            return next(self._batches)
        except StopIteration:
            raise StopAsyncIteration from None

    def cancel(self) -> None:
        self.cancelled = True


class _Handle:
    """The part of a deployment handle HandleEngine uses; counting through it fails."""

    def __init__(self, batches: list[list[ChatCompletionChunk]]) -> None:
        self.count_tokens = _Refuses()
        self.stream = _Stream(batches)

    def options(self, **_: Any) -> Any:
        handle = self

        class _Method:
            def remote(self, request: ChatRequest) -> _Stream:
                return handle.stream

        class _Options:
            chat_stream_batches = _Method()

        return _Options()


def test_kinds_that_count_locally() -> None:
    counters = local_token_counters(
        [
            EngineSettings(name="s", kind="scripted"),
            EngineSettings(name="o", kind="openai", base_url="http://127.0.0.1:1/v1"),
            EngineSettings(name="l", kind="llamacpp"),
        ]
    )
    assert isinstance(counters["s"], ScriptedTokenCounter)
    assert isinstance(counters["o"], EstimatedTokenCounter)


async def test_local_count_needs_no_replica() -> None:
    engine = HandleEngine(_Handle([]), "s", ScriptedTokenCounter())  # type: ignore[arg-type]
    assert await engine.count_tokens(MESSAGES) == ScriptedTokenCounter().count(MESSAGES)


async def test_an_estimate_learns_from_the_streams_usage() -> None:
    counter = EstimatedTokenCounter()
    estimate = counter.count(MESSAGES)
    usage = Usage(prompt_tokens=estimate * 3, completion_tokens=1, total_tokens=estimate * 3 + 1)
    chunk = ChatCompletionChunk(id="c", created=0, model="o", choices=[], usage=usage)
    handle = _Handle([[chunk]])
    engine = HandleEngine(handle, "o", counter)  # type: ignore[arg-type]
    request = ChatRequest(model="o", messages=MESSAGES, stream=True)
    assert [c async for c in engine.chat_stream(request)] == [chunk]
    assert handle.stream.cancelled  # the stream is always released
    assert counter.ratio > 1.0 and await engine.count_tokens(MESSAGES) > estimate
