"""Asking a chat model on behalf of a workflow node: the request, a streamed or
whole answer, a JSON answer parsed, and usage as a node output.

Shared by the llm, question-classifier and parameter-extractor nodes. Engine errors
are :class:`agents.errors.ChorusError` and pass through unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from agents.engine import ChatMessage, ChatRequest, EngineProtocol, ResponseFormat, Usage
from agents.workflows.nodes.common import ModelConfig

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def chat_request(
    model_name: str,
    model: ModelConfig,
    messages: list[ChatMessage],
    *,
    schema: dict[str, Any] | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stream: bool = False,
) -> ChatRequest:
    """The request for ``messages``; ``schema`` asks for JSON matching it."""
    response_format = None
    if schema is not None:
        response_format = ResponseFormat.model_validate(
            {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
        )
    return ChatRequest(
        model=model_name,
        messages=messages,
        temperature=model.temperature if temperature is None else temperature,
        max_tokens=model.max_tokens or max_tokens,
        response_format=response_format,
        stream=stream,
    )


async def stream_text(
    engine: EngineProtocol, request: ChatRequest, emit: Callable[[str], Awaitable[None]]
) -> tuple[str, Usage]:
    """The answer's text, each piece passed to ``emit`` as it arrives, and its usage."""
    parts: list[str] = []
    usage = Usage()
    stream = engine.chat_stream(request)
    try:
        async for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            piece = chunk.choices[0].delta.content if chunk.choices else None
            if piece:
                parts.append(piece)
                await emit(piece)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return "".join(parts), usage


async def complete(engine: EngineProtocol, request: ChatRequest) -> tuple[str, Usage]:
    """The whole answer's text and its usage."""
    out = await engine.chat(request)
    text = out.choices[0].message.content if out.choices else None
    return text or "", out.usage


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in a model's answer (tolerating a code fence or words around
    it), or None when there is none."""
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end and (start, end) != (0, len(text) - 1):
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def usage_output(usage: Usage) -> dict[str, int]:
    """Usage as the ``usage`` output of a node."""
    total = usage.total_tokens or usage.prompt_tokens + usage.completion_tokens
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": total,
    }


def messages_record(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """The messages sent, as they appear in a run record's inputs."""
    return [{"role": m.role, "content": m.text()} for m in messages]
