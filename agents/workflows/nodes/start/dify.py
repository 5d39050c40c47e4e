"""start from Dify: input variables by their Dify form types."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext, dicts


def map_start(raw: Data, m: MappingContext) -> Data:
    kinds = {"text-input": "string", "paragraph": "string", "select": "string"}
    kinds.update({"number": "number", "checkbox": "boolean", "json_object": "object"})
    kinds.update({"file": "object", "file-list": "array[object]"})
    out: list[Data] = []
    for i, var in enumerate(dicts(raw.get("variables"))):
        name, kind = str(var.get("variable") or ""), str(var.get("type") or "text-input")
        where = f"variables.{i}"
        if kind not in kinds:
            m.note("dropped", where, f"input {name!r} of type {kind!r} has no counterpart here")
            continue
        item: Data = {"variable": name, "type": kinds[kind], "required": bool(var.get("required"))}
        if var.get("label"):
            item["label"] = str(var["label"])
        if kind == "select":
            item["options"] = [str(o) for o in var.get("options") or []]
        max_length = var.get("max_length")
        if kinds[kind] == "string" and isinstance(max_length, int) and max_length > 0:
            item["max_length"] = max_length
        if var.get("default") not in (None, ""):
            item["default"] = var["default"]
        if kind in ("file", "file-list"):
            m.note("needs_mapping", where, f"file input {name!r} now takes {kinds[kind]}")
        elif kind == "json_object":
            m.note("info", where, f"JSON input {name!r} takes an object")
        out.append(item)
    return {"variables": out}
