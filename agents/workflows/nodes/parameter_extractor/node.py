"""The parameter-extractor node: the model fills a JSON schema built from the
parameters; the values are checked against their types.

An extraction that fails (no JSON, a required parameter missing, a value of the
wrong type) is not an error: ``__is_success`` is 0, ``__reason`` says why, and
every parameter still has a value (its type's empty value when not extracted).
"""

from __future__ import annotations

import math
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
    usage_output,
)
from agents.workflows.nodes.parameter_extractor.dify import map_parameter_extractor
from agents.workflows.nodes.parameter_extractor.entities import (
    ExtractedParameter,
    ParameterExtractorNodeData,
)
from agents.workflows.variables import VarType, to_text

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "array[string]": {"type": "array", "items": {"type": "string"}},
    "array[number]": {"type": "array", "items": {"type": "number"}},
    "array[object]": {"type": "array", "items": {"type": "object"}},
    "object": {"type": "object"},
}
_EMPTY: dict[str, Any] = {
    "string": "",
    "number": 0,
    "integer": 0,
    "boolean": False,
    "array[string]": [],
    "array[number]": [],
    "array[object]": [],
    "object": {},
}


class ParameterExtractorNode(BaseNode[ParameterExtractorNodeData]):
    type = "parameter-extractor"
    data_model = ParameterExtractorNodeData
    dify = DifyMapping(("parameter-extractor",), map_parameter_extractor)

    def output_types(self) -> dict[str, VarType]:
        types: dict[str, VarType] = {p.name: p.type for p in self.data.parameters}
        types.update({"__is_success": "integer", "__reason": "string", "usage": "object"})
        return types

    def references(self) -> list[Reference]:
        return [
            Reference(self.data.query, "query", {"string"}),
            *refs_in(self.data.instruction, "instruction"),
        ]

    async def run(self, ctx: NodeContext) -> NodeResult:
        data = self.data
        query = to_text(ctx.pool.get(data.query))
        messages = [
            ChatMessage(role="system", content=self._system(ctx.pool.render(data.instruction))),
            ChatMessage(role="user", content=query),
        ]
        engine, name = ctx.services.engine(data.model.name)
        schema = parameters_schema(data.parameters)
        # Extraction wants the likeliest reading: greedy unless the node says otherwise.
        temperature = data.model.temperature or 0.0
        request = chat_request(name, data.model, messages, schema=schema, temperature=temperature)
        text, usage = await complete(engine, request)
        values, problems = extract(data.parameters, parse_json_object(text))
        used = usage_output(usage)
        outputs: dict[str, Any] = {
            **values,
            "__is_success": 0 if problems else 1,
            "__reason": "; ".join(problems),
            "usage": used,
        }
        return NodeResult(
            outputs=outputs,
            inputs={"model": name, "messages": messages_record(messages)},
            tokens=used["total_tokens"],
        )

    def _system(self, instruction: str) -> str:
        lines = [
            "Extract the parameters below from the user's text and reply with one JSON "
            "object that has a key per parameter. Use only what the text says; leave out "
            "an optional parameter the text does not give.",
            "",
            "Parameters:",
        ]
        for p in self.data.parameters:
            line = f"- {p.name} ({p.type}, {'required' if p.required else 'optional'})"
            if p.description:
                line += f": {p.description}"
            if p.options:
                line += f" One of: {', '.join(p.options)}."
            lines.append(line)
        if instruction.strip():
            lines += ["", "Instructions:", instruction.strip()]
        return "\n".join(lines)


def parameters_schema(parameters: list[ExtractedParameter]) -> dict[str, Any]:
    """The JSON Schema of the object the model answers with."""
    properties: dict[str, Any] = {}
    for p in parameters:
        prop = dict(_JSON_TYPES[p.type])
        if p.options and p.type == "string":
            prop["enum"] = list(p.options)
        elif p.options:
            prop["items"] = {"type": "string", "enum": list(p.options)}
        if p.description:
            prop["description"] = p.description
        properties[p.name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": [p.name for p in parameters if p.required],
        "additionalProperties": False,
    }


def extract(
    parameters: list[ExtractedParameter], answer: dict[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """Every parameter's value (the empty value of its type when missing or invalid)
    and what went wrong, if anything."""
    values = {p.name: _empty(p) for p in parameters}
    if answer is None:
        return values, ["the model's answer is not a JSON object"]
    problems: list[str] = []
    for p in parameters:
        raw = answer.get(p.name)
        if raw is None:
            if p.required:
                problems.append(f"missing required parameter '{p.name}'")
            continue
        value = checked(p, raw)
        if value is None:
            problems.append(f"parameter '{p.name}' is not a valid {p.type}: {to_text(raw)[:100]}")
        else:
            values[p.name] = value
    return values, problems


def checked(parameter: ExtractedParameter, value: Any) -> Any:
    """``value`` as the parameter's type, or None when it is not one."""
    kind = parameter.type
    if kind == "string":
        ok = isinstance(value, str) and (not parameter.options or value in parameter.options)
        return value if ok else None
    if kind == "number":
        return value if _is_number(value) else None
    if kind == "integer":
        if isinstance(value, float) and _is_number(value) and value.is_integer():
            return int(value)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "object":
        return value if isinstance(value, dict) else None
    if not isinstance(value, list):
        return None
    if kind == "array[string]":
        allowed = set(parameter.options)
        ok = all(isinstance(v, str) and (not allowed or v in allowed) for v in value)
        return value if ok else None
    if kind == "array[number]":
        return value if all(_is_number(v) for v in value) else None
    return value if all(isinstance(v, dict) for v in value) else None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _empty(parameter: ExtractedParameter) -> Any:
    empty = _EMPTY[parameter.type]
    return type(empty)() if isinstance(empty, list | dict) else empty
