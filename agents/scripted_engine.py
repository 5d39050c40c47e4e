"""A scripted engine: answers with given replies, for unit tests of logic above engines.

It honours the whole :class:`agents.engine.EngineProtocol` contract (role chunk,
deltas, finish chunk, usage chunk) so code tested against it runs unchanged on a
real engine. It is never the only test of a path.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from agents.engine import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    FunctionCall,
    ModelCard,
    ToolCall,
    ToolCallDelta,
    Usage,
    new_completion_id,
    new_tool_call_id,
)
from agents.errors import ChorusError, ContextWindowExceededError

_TOKEN = re.compile(r"\S+\s*|\s+")


@dataclass
class ScriptedReply:
    """One scripted answer: text, tool calls, or an error to raise."""

    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: ChorusError | None = None


class ScriptedEngine:
    """Replies in order; the last reply repeats once the script runs out."""

    def __init__(
        self,
        replies: list[ScriptedReply | str],
        *,
        model: str = "scripted",
        delay: float = 0.0,
        context_window: int = 4096,
    ) -> None:
        if not replies:
            raise ValueError("ScriptedEngine needs at least one reply")
        self._replies = [ScriptedReply(content=r) if isinstance(r, str) else r for r in replies]
        self._model = model
        self._delay = delay
        self._context_window = context_window
        self._next = 0
        #: Every request received, in order, for assertions on what was sent.
        self.requests: list[ChatRequest] = []

    def model_card(self) -> ModelCard:
        return ModelCard(id=self._model, engine="scripted", context_window=self._context_window)

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        return ScriptedTokenCounter().count(messages)

    def _take(self, request: ChatRequest) -> ScriptedReply:
        self.requests.append(request)
        reply = self._replies[min(self._next, len(self._replies) - 1)]
        self._next += 1
        if reply.error is not None:
            raise reply.error
        return reply

    async def _check_window(self, request: ChatRequest) -> int:
        prompt = await self.count_tokens(request.messages)
        if prompt >= self._context_window:
            raise ContextWindowExceededError(
                f"prompt is {prompt - self._context_window + 1} tokens over the context window "
                f"of {self._context_window}"
            )
        return prompt

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        prompt = await self._check_window(request)
        reply = self._take(request)
        calls = [_tool_call(name, args) for name, args in reply.tool_calls]
        text = reply.content if not calls else None
        completion = len(_TOKEN.findall(text or "")) + len(calls)
        return ChatCompletion(
            model=self._model,
            choices=[
                Choice(
                    message=AssistantMessage(content=text, tool_calls=calls or None),
                    finish_reason="tool_calls" if calls else "stop",
                )
            ],
            usage=Usage(
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
            ),
        )

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        prompt = await self._check_window(request)
        reply = self._take(request)
        cid = new_completion_id()

        def chunk(delta: Delta, finish: Any = None) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=cid,
                model=self._model,
                choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            )

        yield chunk(Delta(role="assistant"))
        produced = 0
        if reply.tool_calls:
            for i, (name, args) in enumerate(reply.tool_calls):
                call = _tool_call(name, args)
                yield chunk(
                    Delta(
                        tool_calls=[
                            ToolCallDelta(
                                index=i, id=call.id, type="function", function=call.function
                            )
                        ]
                    )
                )
                produced += 1
            yield chunk(Delta(), "tool_calls")
        else:
            for piece in _TOKEN.findall(reply.content or ""):
                if self._delay:
                    await asyncio.sleep(self._delay)
                yield chunk(Delta(content=piece))
                produced += 1
            yield chunk(Delta(), "stop")
        yield ChatCompletionChunk(
            id=cid,
            model=self._model,
            usage=Usage(
                prompt_tokens=prompt, completion_tokens=produced, total_tokens=prompt + produced
            ),
        )


def _tool_call(name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(
        id=new_tool_call_id(), function=FunctionCall(name=name, arguments=json.dumps(args))
    )


class ScriptedTokenCounter:
    """The scripted engine's own token rule (a word and its trailing space is a token,
    three more per message), so callers count exactly without asking it."""

    exact = True

    def count(self, messages: list[ChatMessage]) -> int:
        return sum(len(_TOKEN.findall(m.text())) + 3 for m in messages)

    def observe(self, messages: list[ChatMessage], reported: int) -> None:
        pass
