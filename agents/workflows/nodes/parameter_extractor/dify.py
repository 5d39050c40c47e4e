"""parameter-extractor from Dify: the query, typed parameters, instruction and model."""

from __future__ import annotations

from agents.workflows.dify.mapping import (
    Data,
    MappingContext,
    dicts,
    drop_memory,
    drop_vision,
    model_settings,
)

_PARAMETER_TYPES = {"bool": "boolean", "select": "string"}


def map_parameter_extractor(raw: Data, m: MappingContext) -> Data:
    parameters: list[Data] = []
    for i, p in enumerate(dicts(raw.get("parameters"))):
        kind = str(p.get("type") or "string")
        kind = _PARAMETER_TYPES.get(kind, kind)
        if kind == "array[boolean]":
            m.note("needs_mapping", f"parameters.{i}.type", "array[boolean] is not supported")
        item: Data = {
            "name": str(p.get("name") or ""),
            "type": kind,
            "description": str(p.get("description") or ""),
            "required": bool(p.get("required")),
        }
        if p.get("options") and kind in ("string", "array[string]"):
            item["options"] = [str(o) for o in p["options"]]
        parameters.append(item)
    drop_memory(raw, m)
    drop_vision(raw, m)
    return {
        "query": m.selector(raw.get("query"), "query"),
        "parameters": parameters,
        "instruction": m.text(raw.get("instruction") or "", "instruction"),
        "model": model_settings(raw.get("model"), m),
    }
