"""Variable types, selectors and template references.

A value produced by a node is addressed by a *selector*: ``[node_id, name, *path]``
(``path`` walks into objects by key and arrays by index). Templates refer to the same
values as ``{{#node_id.name.path#}}``. Three pseudo nodes hold values no node makes:
``sys`` (``query``, ``conversation_id``, ``user_id``, ``workflow_id``, ``run_id``,
``files``), ``env`` (the workflow's environment variables) and ``conversation``
(conversation variables).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

VarType = Literal[
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array[string]",
    "array[number]",
    "array[boolean]",
    "array[object]",
    "array[any]",
    "any",
]
VAR_TYPES: tuple[str, ...] = VarType.__args__  # type: ignore[attr-defined]
SYSTEM_NODES = ("sys", "env", "conversation")
SYS_VARIABLES: dict[str, VarType] = {
    "query": "string",
    "conversation_id": "string",
    "user_id": "string",
    "workflow_id": "string",
    "run_id": "string",
    "files": "array[object]",
    "dialogue_count": "integer",
}
#: ``{{#node_id.name#}}``, ``{{#node_id.name.key.0#}}``, ``{{#sys.query#}}``.
TEMPLATE_REF = re.compile(r"\{\{#([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-\u4e00-\u9fff]+)+)#\}\}")


def template_refs(text: str) -> list[list[str]]:
    """The selectors a template refers to, in order of appearance."""
    return [m.group(1).split(".") for m in TEMPLATE_REF.finditer(text or "")]


def element_type(var_type: str) -> VarType:
    """The element type of an array type (``any`` for anything else)."""
    if var_type.startswith("array[") and var_type.endswith("]"):
        inner = var_type[6:-1]
        return inner if inner in VAR_TYPES else "any"  # type: ignore[return-value]
    return "any"


def array_of(var_type: str) -> VarType:
    inner = var_type if var_type in ("string", "number", "boolean", "object") else "any"
    if var_type == "integer":
        inner = "number"
    return f"array[{inner}]"  # type: ignore[return-value]


def compatible(produced: str, accepted: set[str] | None) -> bool:
    """Can a value declared as ``produced`` go where ``accepted`` types are expected?"""
    if not accepted or "any" in accepted or produced == "any":
        return True
    if produced in accepted:
        return True
    if produced == "integer" and "number" in accepted:
        return True
    if produced.startswith("array[") and "array[any]" in accepted:
        return True
    return produced == "array[any]" and any(a.startswith("array[") for a in accepted)


def type_of(value: Any) -> VarType:
    """The variable type of a runtime value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        kinds = {type_of(v) for v in value}
        kinds = {"number" if k == "integer" else k for k in kinds}
        if len(kinds) == 1:
            (only,) = kinds
            return array_of(only)
        return "array[any]"
    return "any"


def matches(value: Any, var_type: str) -> bool:
    """Does a runtime value have the declared type (``None`` never does)?"""
    if value is None:
        return False
    actual = type_of(value)
    if var_type == "number" and isinstance(value, float) and not math.isfinite(value):
        return False
    if value == [] and var_type.startswith("array["):
        return True
    return compatible(actual, {var_type})


def to_text(value: Any) -> str:
    """How a value reads inside a template: strings as they are, the rest as JSON."""
    import json

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
