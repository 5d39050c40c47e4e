"""The llm node: render a prompt, ask a chat model, stream or parse its answer."""

from __future__ import annotations

from typing import Any

from agents.engine import ChatMessage
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference, refs_in
from agents.workflows.nodes.llm.completion import (
    chat_request,
    complete,
    messages_record,
    parse_json_object,
    stream_text,
    usage_output,
)
from agents.workflows.nodes.llm.dify import map_llm
from agents.workflows.nodes.llm.entities import CONTEXT_MARK, LlmNodeData
from agents.workflows.nodes.llm.errors import LlmOutputInvalidError
from agents.workflows.variable_pool import VariablePool
from agents.workflows.variables import VarType, to_text

#: What a context variable may hold.
CONTEXT_TYPES = {"string", "array[object]", "array[string]"}


class LlmNode(BaseNode[LlmNodeData]):
    type = "llm"
    data_model = LlmNodeData
    dify = DifyMapping(("llm",), map_llm)

    def output_types(self) -> dict[str, VarType]:
        types: dict[str, VarType] = {"text": "string", "usage": "object"}
        if self.data.structured_output is not None:
            types["structured_output"] = "object"
        return types

    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for i, message in enumerate(self.data.prompt_template):
            refs += refs_in(message.text, f"prompt_template.{i}.text")
        selector = self.data.context.variable_selector
        if self.data.context.enabled and selector:
            refs.append(Reference(selector, "context.variable_selector", set(CONTEXT_TYPES)))
        return refs

    async def run(self, ctx: NodeContext) -> NodeResult:
        data = self.data
        context = ""
        if data.context.enabled and data.context.variable_selector:
            context = context_text(ctx.pool.get(data.context.variable_selector, None))
        messages = [
            ChatMessage(role=m.role, content=render(ctx.pool, m.text, context))
            for m in data.prompt_template
        ]
        if data.memory is not None and ctx.history:
            messages = with_memory(messages, ctx.history[-data.memory.window :])
        engine, name = ctx.services.engine(data.model.name)
        outputs: dict[str, Any] = {}
        if data.structured_output is not None:
            schema = data.structured_output.schema_
            text, usage = await complete(
                engine, chat_request(name, data.model, messages, schema=schema)
            )
            outputs["structured_output"] = structured(text, schema)
        else:
            request = chat_request(name, data.model, messages, stream=True)

            async def emit(piece: str) -> None:
                await ctx.emit_delta(ctx.node_id, piece)

            text, usage = await stream_text(engine, request, emit)
        used = usage_output(usage)
        outputs.update(text=text, usage=used)
        return NodeResult(
            outputs=outputs,
            inputs={"model": name, "messages": messages_record(messages)},
            tokens=used["total_tokens"],
        )


def render(pool: VariablePool, text: str, context: str) -> str:
    """``text`` with references filled from ``pool`` and ``{{#context#}}`` by
    ``context`` (which itself is not rendered again)."""
    return context.join(pool.render(part) for part in text.split(CONTEXT_MARK))


def context_text(value: Any) -> str:
    """A context value as prompt text: strings as they are, retrieved chunks by their
    content, one after another."""
    if isinstance(value, list):
        pieces = []
        for item in value:
            if isinstance(item, dict) and "content" in item:
                pieces.append(to_text(item["content"]))
            else:
                pieces.append(to_text(item))
        return "\n\n".join(p for p in pieces if p)
    return to_text(value)


def with_memory(messages: list[ChatMessage], history: list[dict[str, str]]) -> list[ChatMessage]:
    """``messages`` with the conversation's ``history`` inserted before the last user
    message (appended when there is none)."""
    remembered = [
        ChatMessage(role=h["role"], content=h.get("content") or "")  # type: ignore[arg-type]
        for h in history
        if h.get("role") in ("user", "assistant")
    ]
    last_user = next(
        (i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), len(messages)
    )
    return messages[:last_user] + remembered + messages[last_user:]


def structured(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The answer parsed as the object ``schema`` asks for; LlmOutputInvalidError if not."""
    value = parse_json_object(text)
    if value is None:
        raise LlmOutputInvalidError(
            "the model's answer is not a JSON object", details={"output": text[:500]}
        )
    missing = [key for key in schema.get("required", []) if key not in value]
    if missing:
        raise LlmOutputInvalidError(
            f"the model's answer lacks required field(s): {', '.join(missing)}",
            details={"output": text[:500], "missing": missing},
        )
    return value
