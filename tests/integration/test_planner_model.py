"""The planner on the real local model (SmolLM2 through llama.cpp): a forced tool call
comes back with arguments valid for the tool's schema, in both the native path (the
engine's JSON-schema emulation of tool calls) and the planner's own JSON-schema path,
and the tool's result reaches the model's next request and the event stream. The tiny
model's wording is not checked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agents.engine import ChatMessage, ChatRequest
from agents.planner import Planner
from agents.tools.builtin import CalculatorTool, ConvertTimeTool

pytestmark = pytest.mark.integration


class Recording:
    """Passes requests to the real engine and keeps them."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> Any:
        self.requests.append(request)
        return await self.inner.chat(request)

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[Any]:
        self.requests.append(request)
        return self.inner.chat_stream(request)  # type: ignore[no-any-return]

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        return await self.inner.count_tokens(messages)  # type: ignore[no-any-return]

    def model_card(self) -> Any:
        return self.inner.model_card()


@pytest.mark.parametrize("mode", ["native", "json_schema"])
async def test_a_forced_call_is_valid_and_its_result_reaches_the_model(
    llama_engine: Any, mode: str
) -> None:
    engine = Recording(llama_engine)
    tools = [CalculatorTool(), ConvertTimeTool()]
    planner = Planner(
        engine, "smollm2-135m-instruct", tools, max_steps=2, mode=mode,  # type: ignore[arg-type]
        first_tool_choice="calculator", max_tokens=700, temperature=0.0,
    )  # fmt: skip
    # max_tokens: the grammar bounds the expression to 100 characters, but the tiny model
    # may fill them with escapes of several tokens each; the server clamps to the window
    messages = [
        ChatMessage(role="system", content="You are a helpful assistant with a calculator."),
        ChatMessage(role="user", content="What is 12 times 7? Use the calculator."),
    ]
    out = [o async for o in planner.run(messages, conversation_id="c", message_id="m")]
    calls = [o.event for o in out if o.kind == "event" and o.event.type == "tool_call"]
    results = [o.event for o in out if o.kind == "event" and o.event.type == "tool_result"]
    assert calls and calls[0].name == "calculator" and calls[0].step == 1
    first = calls[0].arguments
    assert isinstance(first, dict) and isinstance(first.get("expression"), str)  # schema-valid
    assert results[0].call_id == calls[0].call_id
    # The expression is the tiny model's; it may not parse, then the error goes back instead.
    if results[0].ok:
        assert isinstance(results[0].result["result"], int | float)
        told = {"result": results[0].result}
    else:
        assert results[0].error["code"] == "tool_arguments_invalid"
        told = {"error": results[0].error}
    second = engine.requests[1].messages
    if mode == "native":
        assert second[-2].tool_calls[0].id == calls[0].call_id
        assert second[-1].role == "tool" and second[-1].tool_call_id == calls[0].call_id
        assert json.loads(second[-1].content) == told
    else:
        assert second[-1].content == "Result of calculator: " + json.dumps(told, ensure_ascii=False)
    assert [o for o in out if o.kind == "usage"]
