"""Tool calls for models without a native tool-call format, through constrained JSON.

A small model rarely follows a tool-call format it was not trained on. Instead we
describe the tools in the system prompt and constrain the output with a JSON
Schema whose branches are exactly the allowed replies, spelled as a :class:`ReplyShape`
says. The engine client's shape (:data:`TOOL_CALL_REPLY`, for ``tool_calls: schema``
engines) is:

- a call: ``{"name": "<tool>", "arguments": {...the tool's own schema...}}``
- for ``tool_choice="auto"`` also a plain answer: ``{"content": "..."}``

and the engine turns the JSON back into OpenAI ``tool_calls``. The planner's
``json_schema`` mode uses the same functions with its own shape. Every function here is
pure, so the emulation is tested without a model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from agents.engine import (
    ChatMessage,
    ChatRequest,
    FunctionCall,
    JsonSchemaFormat,
    NamedToolChoice,
    ResponseFormat,
    ToolCall,
    ToolDefinition,
    new_tool_call_id,
)
from agents.errors import UpstreamError


@dataclass(frozen=True)
class ReplyShape:
    """How an emulated reply spells a call (``{name_key: <tool>, "arguments": {...}}``)
    and a plain answer (``{answer_key: <text>}``), and how its schema pins the name."""

    name_key: str
    answer_key: str
    name_keyword: Literal["const", "enum"] = "const"

    def name_schema(self, name: str) -> dict[str, Any]:
        return {"const": name} if self.name_keyword == "const" else {"enum": [name]}

    def call(self, name: str, arguments: object) -> dict[str, object]:
        """A call as the model writes it."""
        return {self.name_key: name, "arguments": arguments}


#: The engine client's emulation of OpenAI ``tool_calls``.
TOOL_CALL_REPLY = ReplyShape(name_key="name", answer_key="content")


def uses_tools(request: ChatRequest) -> bool:
    """True when the request offers tools and does not switch them off."""
    return bool(request.tools) and request.tool_choice != "none"


def allowed_tools(request: ChatRequest) -> list[ToolDefinition]:
    """The tools the model may call under the request's ``tool_choice``."""
    tools = list(request.tools or [])
    if isinstance(request.tool_choice, NamedToolChoice):
        wanted = request.tool_choice.function.name
        return [t for t in tools if t.function.name == wanted]
    return tools


def must_call(request: ChatRequest) -> bool:
    return request.tool_choice == "required" or isinstance(request.tool_choice, NamedToolChoice)


def reply_schema(request: ChatRequest, shape: ReplyShape = TOOL_CALL_REPLY) -> dict[str, Any]:
    """The JSON Schema that every allowed reply to ``request`` matches."""
    branches: list[dict[str, Any]] = []
    for tool in allowed_tools(request):
        params = tool.function.parameters or {"type": "object", "properties": {}}
        name = shape.name_schema(tool.function.name)
        branches.append(
            {
                "type": "object",
                "properties": {shape.name_key: name, "arguments": params},
                "required": [shape.name_key, "arguments"],
                "additionalProperties": False,
            }
        )
    if not must_call(request):
        branches.append(
            {
                "type": "object",
                "properties": {shape.answer_key: {"type": "string"}},
                "required": [shape.answer_key],
                "additionalProperties": False,
            }
        )
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def tools_prompt(request: ChatRequest, shape: ReplyShape = TOOL_CALL_REPLY) -> str:
    """System-prompt text that tells the model which tools exist and how to reply."""
    lines = ["You can call these tools:"]
    for tool in allowed_tools(request):
        fn = tool.function
        lines.append(
            f"- {fn.name}: {fn.description or 'no description'} "
            f"Arguments (JSON Schema): {json.dumps(fn.parameters, ensure_ascii=False)}"
        )
    call = f'{{"{shape.name_key}": <tool name>, "arguments": {{...}}}}'
    lines.append(f"To call a tool, reply with JSON {call}.")
    if not must_call(request):
        answer = f'{{"{shape.answer_key}": <your answer>}}'
        lines.append(f"To answer directly instead, reply with JSON {answer}.")
    return "\n".join(lines)


def flatten_history(
    messages: list[ChatMessage], shape: ReplyShape = TOOL_CALL_REPLY
) -> list[ChatMessage]:
    """Rewrite earlier tool calls and tool results as plain text turns.

    Chat templates of models without tool support cannot render ``tool_calls`` or
    the ``tool`` role; the model sees them as the JSON it would itself produce.
    """
    out: list[ChatMessage] = []
    for msg in messages:
        if msg.role == "assistant" and msg.tool_calls:
            calls = [
                shape.call(c.function.name, _loads_or_raw(c.function.arguments))
                for c in msg.tool_calls
            ]
            text = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
            prefix = msg.text()
            out.append(ChatMessage(role="assistant", content=(prefix + "\n" + text).strip()))
        elif msg.role == "tool":
            label = f"Result of tool call {msg.tool_call_id}" if msg.tool_call_id else "Tool result"
            out.append(ChatMessage(role="user", content=f"{label}:\n{msg.text()}"))
        else:
            out.append(msg)
    return out


def with_tools_prompt(
    request: ChatRequest, shape: ReplyShape = TOOL_CALL_REPLY
) -> list[ChatMessage]:
    """The request's messages, flattened, with the tools described in the system message."""
    messages = flatten_history(request.messages, shape)
    note = tools_prompt(request, shape)
    if messages and messages[0].role in ("system", "developer"):
        first = messages[0]
        merged = ChatMessage(role="system", content=(first.text() + "\n\n" + note).strip())
        return [merged, *messages[1:]]
    return [ChatMessage(role="system", content=note), *messages]


def emulated(
    request: ChatRequest, shape: ReplyShape = TOOL_CALL_REPLY, name: str = "reply"
) -> ChatRequest:
    """``request`` for an engine without tools: the tools described in the prompt, the
    history flattened, the reply constrained to :func:`reply_schema` (named ``name``)."""
    schema = JsonSchemaFormat.model_validate({"name": name, "schema": reply_schema(request, shape)})
    return request.model_copy(
        update={
            "messages": with_tools_prompt(request, shape),
            "tools": None,
            "tool_choice": None,
            "response_format": ResponseFormat(type="json_schema", json_schema=schema),
        }
    )


def read_reply(text: str, shape: ReplyShape = TOOL_CALL_REPLY) -> str | FunctionCall:
    """The constrained JSON reply as the answer's text or the call it makes (any name).

    Raises :class:`UpstreamError` when the reply is not JSON or matches neither shape.
    """
    try:
        # llama.cpp's JSON grammar lets raw control characters (newlines) into strings
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise UpstreamError(
            "the model's tool-call reply is not valid JSON", details={"reply": text[:500]}
        ) from exc
    if isinstance(data, dict) and shape.name_key in data:
        arguments = json.dumps(data.get("arguments", {}), ensure_ascii=False)
        return FunctionCall(name=str(data[shape.name_key]), arguments=arguments)
    if isinstance(data, dict) and isinstance(data.get(shape.answer_key), str):
        answer: str = data[shape.answer_key]
        return answer
    raise UpstreamError(
        "the model's reply matches neither a tool call nor an answer",
        details={"reply": text[:500]},
    )


def cut_answer(text: str, shape: ReplyShape = TOOL_CALL_REPLY) -> str | None:
    """The answer in a reply the model was cut off while writing (``max_tokens``), or
    ``None`` when the reply is not an answer (a cut-off call cannot be salvaged).

    ``{"content": "Twelve times seven is 8`` gives ``Twelve times seven is 8``: the
    caller returns it as a plain answer ending with ``finish_reason="length"``, as any
    answer cut off by ``max_tokens`` does.
    """
    opening = re.match(r'\s*\{\s*"' + re.escape(shape.answer_key) + r'"\s*:\s*"', text)
    if opening is None:
        return None
    body = text[opening.end() :]
    for trim in range(7):  # a partial escape at the end (``\u00`` at most) is dropped
        try:
            answer = json.loads('"' + body[: len(body) - trim] + '"', strict=False)
        except json.JSONDecodeError:
            continue
        return answer if isinstance(answer, str) else None
    return None


def parse_reply(
    text: str, request: ChatRequest, shape: ReplyShape = TOOL_CALL_REPLY
) -> tuple[str | None, list[ToolCall]]:
    """Turn the constrained JSON reply into ``(content, tool_calls)``.

    Raises :class:`UpstreamError` when the engine ignored the schema or called a tool
    the request does not allow.
    """
    reply = read_reply(text, shape)
    if isinstance(reply, str):
        return reply, []
    if reply.name not in {t.function.name for t in allowed_tools(request)}:
        raise UpstreamError(
            f"the model called unknown tool {reply.name!r}", details={"reply": text[:500]}
        )
    return None, [ToolCall(id=new_tool_call_id(), function=reply)]


def _loads_or_raw(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        return arguments
