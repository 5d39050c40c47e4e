"""The planner: the model decides, tools act, until the model answers.

Each step sends the conversation and the tools to the engine. Two ways to ask:

- ``native``: OpenAI ``tools``; the engine returns ``tool_calls`` (our llama.cpp server
  emulates them with a JSON-schema grammar for models without a native format, so even
  the tiny CPU model answers with a well-formed call);
- ``json_schema``: for an engine without tool support, the planner itself emulates the
  call as the engine client does (:mod:`agents.tool_calls`), with its own reply shape:
  ``{"tool": <name>, "arguments": {...}}`` or ``{"answer": "..."}`` (one call per step;
  a reply outside the schema is taken as the answer).

Several calls in one step run concurrently. A failed call — unknown tool, arguments
that fail the tool's schema, the tool's own error, its timeout — becomes a result the
model reads (``{"error": {"code", "message"}}``), never an exception. After
``max_steps`` steps with tool calls and no answer, the turn ends with a clear message.
A call identical to an earlier one (same tool, same arguments) is answered from the
earlier result instead of running again, with a note that it was repeated.

:meth:`Planner.run` yields :class:`PlannerOutput` items: ``text`` pieces of the answer
(streamed), ``event`` (tool_call / tool_result events) and ``usage`` per model call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import structlog

from agents import error_codes, tool_calls
from agents.engine import (
    ChatMessage,
    ChatRequest,
    EngineProtocol,
    FunctionCall,
    NamedToolChoice,
    ToolCall,
    ToolChoice,
    ToolDefinition,
    Usage,
    new_tool_call_id,
)
from agents.errors import ChorusError, UpstreamError
from agents.events import Event, ToolCallEvent, ToolResultEvent

log = structlog.get_logger(__name__)
STEP_LIMIT_REPLY = (
    "I stopped after {steps} tool steps without reaching an answer. "
    "Please rephrase or narrow the question."
)
#: The json_schema mode's replies: ``{"tool": <name>, "arguments": {...}}`` or
#: ``{"answer": "..."}``.
DECISION_REPLY = tool_calls.ReplyShape(name_key="tool", answer_key="answer", name_keyword="enum")


class PlannerToolProtocol(Protocol):
    name: str
    description: str
    parameters: dict[str, Any]

    async def call(self, arguments: dict[str, Any]) -> Any: ...


@dataclass
class PlannerOutput:
    kind: Literal["text", "event", "usage"]
    text: str = ""
    event: Event | None = None
    usage: Usage | None = None


@dataclass
class _Call:
    id: str
    name: str
    raw_arguments: str
    arguments: Any = None
    result: Any = None
    error: dict[str, Any] | None = None
    elapsed_ms: float = 0.0


@dataclass
class Planner:
    engine: EngineProtocol
    model: str
    tools: Sequence[PlannerToolProtocol]
    max_steps: int = 5
    mode: Literal["native", "json_schema"] = "native"
    temperature: float | None = None
    max_tokens: int | None = None
    result_chars: int = 4000
    #: The first step only: "auto", "required" (some tool), or a tool's name.
    first_tool_choice: str = "auto"
    _seen: dict[str, Any] = field(default_factory=dict)
    _definitions: list[ToolDefinition] | None = None

    def _by_name(self) -> dict[str, PlannerToolProtocol]:
        return {t.name: t for t in self.tools}

    def definitions(self) -> list[ToolDefinition]:
        if self._definitions is None:
            self._definitions = self._build_definitions()
        return self._definitions

    def _build_definitions(self) -> list[ToolDefinition]:
        return [
            ToolDefinition.model_validate(
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
            )  # fmt: skip
            for t in self.tools
        ]

    async def run(
        self, messages: list[ChatMessage], *, conversation_id: str, message_id: str
    ) -> AsyncIterator[PlannerOutput]:
        history = list(messages)
        for step in range(1, self.max_steps + 1):
            calls: list[_Call] = []
            choice = self.first_tool_choice if step == 1 else "auto"
            async for item in self._ask(history, calls, choice):
                yield item
            if not calls:
                return
            for call in calls:
                yield PlannerOutput(
                    "event",
                    event=ToolCallEvent(
                        conversation_id=conversation_id, message_id=message_id, call_id=call.id,
                        name=call.name, arguments=_loads(call.raw_arguments), step=step,
                    ),
                )  # fmt: skip
            await asyncio.gather(*(self._execute(call) for call in calls))
            for call in calls:
                yield PlannerOutput(
                    "event",
                    event=ToolResultEvent(
                        conversation_id=conversation_id, message_id=message_id, call_id=call.id,
                        name=call.name, ok=call.error is None, result=call.result,
                        error=call.error, elapsed_ms=round(call.elapsed_ms, 3), step=step,
                    ),
                )  # fmt: skip
            history += self._feedback(calls)
        yield PlannerOutput("text", text=STEP_LIMIT_REPLY.format(steps=self.max_steps))

    # -- asking the model ------------------------------------------------------------------

    async def _ask(
        self, history: list[ChatMessage], calls: list[_Call], choice: str = "auto"
    ) -> AsyncIterator[PlannerOutput]:
        if self.mode == "json_schema":
            offer = self._request(history, choice, stream=False)
            request = tool_calls.emulated(offer, DECISION_REPLY, name="decision")
            reply = await self.engine.chat(request)
            if reply.usage is not None:
                yield PlannerOutput("usage", usage=reply.usage)
            content = reply.choices[0].message.content if reply.choices else ""
            text = content if isinstance(content, str) else ""
            try:
                decision = tool_calls.read_reply(text, DECISION_REPLY)
            except UpstreamError:  # cut off while answering, or the schema was ignored
                decision = tool_calls.cut_answer(text, DECISION_REPLY) or text
            if isinstance(decision, FunctionCall):
                calls.append(_Call(new_tool_call_id(), decision.name, decision.arguments))
            else:
                yield PlannerOutput("text", text=decision)
            return
        partial: dict[int, dict[str, str]] = {}
        stream = self.engine.chat_stream(self._request(history, choice, stream=True))
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    yield PlannerOutput("usage", usage=chunk.usage)
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if delta.content:
                    yield PlannerOutput("text", text=delta.content)
                for tc in delta.tool_calls or []:
                    slot = partial.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function is not None:
                        slot["name"] += tc.function.name or ""
                        slot["arguments"] += tc.function.arguments or ""
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        for index in sorted(partial):
            slot = partial[index]
            calls.append(_Call(slot["id"] or new_tool_call_id(), slot["name"], slot["arguments"]))

    def _request(self, history: list[ChatMessage], choice: str, *, stream: bool) -> ChatRequest:
        """The step's request with the tools offered natively (json_schema mode emulates it)."""
        return ChatRequest(
            model=self.model,
            messages=history,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            tools=self.definitions() or None,
            tool_choice=self._tool_choice(choice) if self.tools else None,
            stream=stream,
        )

    @staticmethod
    def _tool_choice(choice: str) -> ToolChoice:
        if choice in ("auto", "required"):
            return choice  # type: ignore[return-value]
        return NamedToolChoice.model_validate({"type": "function", "function": {"name": choice}})

    # -- running tools ---------------------------------------------------------------------

    async def _execute(self, call: _Call) -> None:
        started = time.perf_counter()
        try:
            call.arguments = json.loads(call.raw_arguments or "{}", strict=False)
        except ValueError as exc:
            call.error = {"code": error_codes.TOOL_ARGUMENTS_INVALID,
                          "message": f"the arguments are not JSON: {exc}"}  # fmt: skip
            return
        tool = self._by_name().get(call.name)
        if tool is None:
            known = ", ".join(sorted(self._by_name())) or "none"
            message = f"there is no tool {call.name!r}; the tools are: {known}"
            call.error = {"code": error_codes.TOOL_NOT_FOUND, "message": message}
            return
        key = call.name + "\x00" + json.dumps(call.arguments, sort_keys=True, default=str)
        if key in self._seen:
            call.result = {"repeated": True, "note": "same call as before; its result was",
                           "result": self._seen[key]}  # fmt: skip
            return
        try:
            if not isinstance(call.arguments, dict):
                raise ChorusError(
                    "the arguments must be a JSON object", code=error_codes.TOOL_ARGUMENTS_INVALID
                )
            call.result = _jsonable(await tool.call(call.arguments))
            self._seen[key] = call.result
        except ChorusError as exc:
            call.error = {"code": exc.code, "message": exc.message}
        except Exception as exc:  # noqa: BLE001 - a tool bug is a result, not a crashed turn
            log.exception("planner_tool_crashed", tool=call.name)
            call.error = {
                "code": error_codes.TOOL_FAILED,
                "message": f"{type(exc).__name__}: {exc}",
            }
        finally:
            call.elapsed_ms = (time.perf_counter() - started) * 1000

    def _feedback(self, calls: list[_Call]) -> list[ChatMessage]:
        def content(call: _Call) -> str:
            body = {"error": call.error} if call.error else {"result": call.result}
            text = json.dumps(body, ensure_ascii=False, default=str)
            if len(text) > self.result_chars:
                text = text[: self.result_chars] + "…(truncated)"
            return text

        if self.mode == "json_schema":
            lines = [f"Result of {c.name}: {content(c)}" for c in calls]
            return [
                ChatMessage(role="assistant", content=json.dumps(
                    DECISION_REPLY.call(calls[0].name, _loads(calls[0].raw_arguments)))),
                ChatMessage(role="user", content="\n".join(lines)),
            ]  # fmt: skip
        messages = [
            ChatMessage(
                role="assistant",
                content=None,
                tool_calls=[
                    ToolCall(
                        id=c.id,
                        function=FunctionCall(name=c.name, arguments=c.raw_arguments or "{}"),
                    )
                    for c in calls
                ],
            )
        ]
        messages += [ChatMessage(role="tool", tool_call_id=c.id, content=content(c)) for c in calls]
        return messages


def _loads(text: str) -> Any:
    try:
        return json.loads(text, strict=False)  # grammar output may hold raw newlines
    except (TypeError, ValueError):
        return text


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)
