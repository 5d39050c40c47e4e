"""The llama.cpp engine (llama-server) through the shared OpenAI-compatible client: the
real model, no fakes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import httpx
import pytest

from agents.engine import ChatMessage, ChatRequest
from agents.errors import ContextWindowExceededError, InvalidInputError, UpstreamUnavailableError
from cluster.engines.engine_metrics import labelled
from cluster.engines.engine_process import EngineProcess
from cluster.engines.openai_engine import OpenAICompatibleEngine

pytestmark = pytest.mark.integration
MODEL = "smollm2-135m-instruct"


def req(text: str, **kw: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": MODEL, "messages": [{"role": "user", "content": text}], "seed": 7, **kw}
    )


async def test_chat_reports_usage(llama_engine: OpenAICompatibleEngine) -> None:
    out = await llama_engine.chat(req("Name a colour.", max_tokens=12))
    assert out.model == MODEL
    assert out.choices[0].message.content
    assert out.usage.prompt_tokens > 5
    assert 0 < out.usage.completion_tokens <= 12
    assert out.choices[0].finish_reason in ("stop", "length")


async def test_stream_yields_deltas_then_finish_then_usage(
    llama_engine: OpenAICompatibleEngine,
) -> None:
    chunks = [c async for c in llama_engine.chat_stream(req("Count to five.", max_tokens=16))]
    deltas = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) >= 3  # token by token, not one blob
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason in ("stop", "length")
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == pytest.approx(len(deltas), abs=2)


async def test_json_schema_output_parses(llama_engine: OpenAICompatibleEngine) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 30}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    out = await llama_engine.chat(
        req(
            "Invent a person.",
            max_tokens=60,
            temperature=0,
            response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
        )
    )
    data = json.loads(out.choices[0].message.content or "")
    assert set(data) == {"name", "age"} and isinstance(data["age"], int)


async def test_forced_tool_call_has_valid_arguments(llama_engine: OpenAICompatibleEngine) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "maxLength": 40},
                    "days": {"type": "integer"},
                },
                "required": ["city", "days"],
                "additionalProperties": False,
            },
        },
    }
    out = await llama_engine.chat(
        req(
            "What's the weather in Paris for 3 days?",
            max_tokens=80,
            temperature=0,
            tools=[tool],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    )
    call = out.choices[0].message.tool_calls[0]  # type: ignore[index]
    args = json.loads(call.function.arguments)
    assert call.function.name == "get_weather"
    assert isinstance(args["city"], str) and isinstance(args["days"], int)
    assert out.choices[0].finish_reason == "tool_calls"


async def test_count_tokens_matches_usage(llama_engine: OpenAICompatibleEngine) -> None:
    messages = [ChatMessage(role="user", content="How many tokens is this?")]
    counted = await llama_engine.count_tokens(messages)
    out = await llama_engine.chat(ChatRequest(model=MODEL, messages=messages, max_tokens=1))
    assert counted == out.usage.prompt_tokens


async def test_prompt_over_window_says_by_how_much(llama_engine: OpenAICompatibleEngine) -> None:
    with pytest.raises(ContextWindowExceededError) as info:
        await llama_engine.chat(req("word " * 1500))
    err = info.value
    assert err.details["context_window"] == 1024
    assert err.details["excess_tokens"] == err.details["prompt_tokens"] - 1023
    assert f"{err.details['excess_tokens']} over" in err.message


async def test_eight_streams_overlap(llama_engine: OpenAICompatibleEngine) -> None:
    """Continuous batching: every stream's first token arrives before any stream ends."""
    firsts: list[float] = []
    ends: list[float] = []

    async def one(i: int) -> None:
        first = None
        request = req(f"Count from {i} to {i + 30}, one number per line.", max_tokens=24)
        async for chunk in llama_engine.chat_stream(request):
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.monotonic()
        assert first is not None
        firsts.append(first)
        ends.append(time.monotonic())

    await asyncio.gather(*(one(i) for i in range(8)))
    assert len(firsts) == 8
    assert max(firsts) < min(ends)


async def _busy_slots(base_url: str) -> list[int]:
    async with httpx.AsyncClient(timeout=10) as client:
        slots = (await client.get(base_url + "/slots")).json()
    return [slot["id"] for slot in slots if slot["is_processing"]]


async def test_a_stream_dropped_by_its_client_frees_its_slot(
    llama_process: EngineProcess, llama_engine: OpenAICompatibleEngine
) -> None:
    stream = llama_engine.chat_stream(req("Write a long story about a ship.", max_tokens=400))
    seen = 0
    async for chunk in stream:
        seen += bool(chunk.choices and chunk.choices[0].delta.content)
        if seen == 3:
            break
    assert await _busy_slots(llama_process.base_url)  # still generating
    await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(50):
        if not await _busy_slots(llama_process.base_url):
            break
        await asyncio.sleep(0.05)
    assert await _busy_slots(llama_process.base_url) == []


async def test_a_schema_the_grammar_refuses_is_invalid_input(
    llama_engine: OpenAICompatibleEngine,
) -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}
    with pytest.raises(InvalidInputError) as info:
        await llama_engine.chat(req("hi", max_tokens=4, response_format=response_format))
    assert info.value.param == "response_format" and "#/nowhere" in info.value.message


async def test_server_metrics_are_labelled_by_model(llama_process: EngineProcess) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(llama_process.base_url + "/metrics")).text
    assert "llamacpp:requests_processing" in labelled(text, {"model": MODEL})
    assert f'llamacpp:tokens_predicted_total{{model="{MODEL}"}}' in labelled(text, {"model": MODEL})


async def test_killed_server_gives_503_then_comes_back(
    llama_process: EngineProcess, llama_engine: OpenAICompatibleEngine
) -> None:
    before = llama_process.pid
    assert before is not None
    os.kill(before, signal.SIGKILL)
    await asyncio.sleep(0.3)
    with pytest.raises(UpstreamUnavailableError) as info:
        await llama_engine.chat(req("hi", max_tokens=2))
    assert info.value.retry_after > 0
    for _ in range(300):
        if llama_process.ready:
            break
        await asyncio.sleep(0.1)
    assert llama_process.ready and llama_process.pid != before
    out = await llama_engine.chat(req("hi", max_tokens=2))
    assert out.choices[0].message.content is not None
