"""Local token counts: the scripted engine's exact rule and the corrected estimate."""

from __future__ import annotations

import pytest

from agents.engine import ChatMessage, ChatRequest
from agents.scripted_engine import ScriptedEngine, ScriptedTokenCounter
from agents.tokens import EstimatedTokenCounter, LocalTokenCounter

PROMPTS = [
    [ChatMessage(role="user", content="Hello there")],
    [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Hi")],
    [ChatMessage(role="user", content="今天北京的天气怎么样？")],
    [ChatMessage(role="user", content="  spaces   everywhere  ")],
    [ChatMessage(role="user", content="")],
]


@pytest.mark.parametrize("messages", PROMPTS)
async def test_scripted_counts_equal_the_engines_usage(messages: list[ChatMessage]) -> None:
    engine = ScriptedEngine(["ok"], model="m")
    chunks = [c async for c in engine.chat_stream(ChatRequest(model="m", messages=messages))]
    usage = chunks[-1].usage
    assert usage is not None
    counter = ScriptedTokenCounter()
    assert isinstance(counter, LocalTokenCounter) and counter.exact
    assert counter.count(messages) == usage.prompt_tokens


def test_estimate_counts_cjk_per_character_and_latin_per_four() -> None:
    counter = EstimatedTokenCounter()
    assert not counter.exact
    latin = counter.count([ChatMessage(role="user", content="a" * 40)])
    chinese = counter.count([ChatMessage(role="user", content="天" * 40)])
    assert latin == 10 + EstimatedTokenCounter.PER_MESSAGE
    assert chinese == 40 + EstimatedTokenCounter.PER_MESSAGE


def test_estimate_learns_from_reported_usage_and_is_bounded() -> None:
    counter = EstimatedTokenCounter()
    messages = [ChatMessage(role="user", content="word " * 80)]
    first = counter.count(messages)
    for _ in range(30):  # the engine keeps reporting twice the estimate
        counter.observe(messages, first * 2)
    assert counter.count(messages) == pytest.approx(first * 2, rel=0.02)
    for _ in range(100):  # an absurd report moves it at most 4x
        counter.observe(messages, first * 1000)
    assert counter.ratio <= 4.0
    counter.observe(messages, 0)  # nothing reported: nothing learned
    assert counter.ratio <= 4.0
