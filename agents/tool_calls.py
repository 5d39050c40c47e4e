"""Tool calls for models without a native tool-call format, through constrained JSON.

A small model rarely follows a tool-call format it was not trained on. Instead we
describe the tools in the system prompt and constrain the output with a JSON
Schema whose branches are exactly the allowed replies:

- a call: ``{"name": "<tool>", "arguments": {...the tool's own schema...}}``
- for ``tool_choice="auto"`` also a plain answer: ``{"content": "..."}``

The engine then turns the JSON back into OpenAI ``tool_calls``. Every function
here is pure, so the emulation is tested without a model.
"""

from __future__ import annotations

import json
from typing import Any

from agents.engine import (
    ChatMessage,
    ChatRequest,
    FunctionCall,
    NamedToolChoice,
    ToolCall,
    ToolDefinition,
    new_tool_call_id,
)
from agents.errors import UpstreamError


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


def reply_schema(request: ChatRequest) -> dict[str, Any]:
    """The JSON Schema that every allowed reply to ``request`` matches."""
    branches: list[dict[str, Any]] = []
    for tool in allowed_tools(request):
        params = tool.function.parameters or {"type": "object", "properties": {}}
        branches.append(
            {
                "type": "object",
                "properties": {"name": {"const": tool.function.name}, "arguments": params},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    if not must_call(request):
        branches.append(
            {
                "type": "object",
                "properties": {"content": {"type": "string"}},
                "required": ["content"],
                "additionalProperties": False,
            }
        )
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def tools_prompt(request: ChatRequest) -> str:
    """System-prompt text that tells the model which tools exist and how to reply."""
    lines = ["You can call these tools:"]
    for tool in allowed_tools(request):
        fn = tool.function
        lines.append(
            f"- {fn.name}: {fn.description or 'no description'} "
            f"Arguments (JSON Schema): {json.dumps(fn.parameters, ensure_ascii=False)}"
        )
    lines.append('To call a tool, reply with JSON {"name": <tool name>, "arguments": {...}}.')
    if not must_call(request):
        lines.append('To answer directly instead, reply with JSON {"content": <your answer>}.')
    return "\n".join(lines)


def flatten_history(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Rewrite earlier tool calls and tool results as plain text turns.

    Chat templates of models without tool support cannot render ``tool_calls`` or
    the ``tool`` role; the model sees them as the JSON it would itself produce.
    """
    out: list[ChatMessage] = []
    for msg in messages:
        if msg.role == "assistant" and msg.tool_calls:
            calls = [
                {"name": c.function.name, "arguments": _loads_or_raw(c.function.arguments)}
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


def with_tools_prompt(request: ChatRequest) -> list[ChatMessage]:
    """The request's messages, flattened, with the tools described in the system message."""
    messages = flatten_history(request.messages)
    note = tools_prompt(request)
    if messages and messages[0].role in ("system", "developer"):
        first = messages[0]
        merged = ChatMessage(role="system", content=(first.text() + "\n\n" + note).strip())
        return [merged, *messages[1:]]
    return [ChatMessage(role="system", content=note), *messages]


def parse_reply(text: str, request: ChatRequest) -> tuple[str | None, list[ToolCall]]:
    """Turn the constrained JSON reply into ``(content, tool_calls)``.

    Raises :class:`UpstreamError` when the engine ignored the schema.
    """
    try:
        # llama.cpp's JSON grammar lets raw control characters (newlines) into strings
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise UpstreamError(
            "the model's tool-call reply is not valid JSON", details={"reply": text[:500]}
        ) from exc
    if isinstance(data, dict) and "name" in data:
        names = {t.function.name for t in allowed_tools(request)}
        if data["name"] not in names:
            raise UpstreamError(
                f"the model called unknown tool {data['name']!r}", details={"reply": text[:500]}
            )
        arguments = data.get("arguments", {})
        call = ToolCall(
            id=new_tool_call_id(),
            function=FunctionCall(
                name=str(data["name"]), arguments=json.dumps(arguments, ensure_ascii=False)
            ),
        )
        return None, [call]
    if isinstance(data, dict) and isinstance(data.get("content"), str):
        return data["content"], []
    raise UpstreamError(
        "the model's reply matches neither a tool call nor an answer",
        details={"reply": text[:500]},
    )


def _loads_or_raw(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        return arguments
