"""What every Dify node mapper shares: the :class:`MappingContext` it notes changes on,
the readers of Dify's loose data, and the settings several node types have alike.

A node type that imports from Dify says so on its class (``dify``: a
:class:`DifyMapping`, the Dify node types and a mapper kept in the node's folder as
``dify.py``). A mapper takes the Dify node's ``data`` (any DSL version 0.1–0.6) and a
:class:`MappingContext`, returns our node type's data as a plain dict and notes on the
context whatever it changed, dropped or could not map. Mappers never raise on odd
input: what they cannot read is noted and left for :func:`compile_workflow` to name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.workflows.dify.report import ReportItem, Severity
from agents.workflows.variables import SYS_VARIABLES, TEMPLATE_REF, VAR_TYPES

Data = dict[str, Any]

#: Dify system variables under another name here.
SYS_RENAMES = {"workflow_run_id": "run_id"}
#: Dify variable types that are not ours, and what they become.
_DIFY_TYPES = {
    "secret": "string",
    "array": "array[any]",
    "file": "object",
    "array[file]": "array[object]",
}


@dataclass
class MappingContext:
    """What a mapper needs besides the node's data, and where it notes changes."""

    node_id: str
    mode: Literal["workflow", "chat"]
    items: list[ReportItem]
    #: Ids of start nodes: older DSLs address system variables as [start_id, 'sys.x'].
    start_ids: set[str] = field(default_factory=set)

    def note(self, severity: Severity, where: str | None, message: str) -> None:
        self.items.append(
            ReportItem(
                severity=severity,
                node_id=self.node_id,
                field=f"data.{where}" if where else None,
                message=message,
            )
        )

    def selector(self, value: Any, where: str) -> list[str]:
        """A Dify selector as ours: system variables renamed, old spellings updated."""
        sel = [str(p) for p in value] if isinstance(value, list) else []
        if len(sel) >= 2 and sel[0] != "sys" and sel[1].startswith("sys."):
            sel = ["sys", sel[1][4:], *sel[2:]]
            self.note("info", where, f"old-style system variable reference is now sys.{sel[1]}")
        if len(sel) >= 2 and sel[0] == "sys":
            sel[1] = self._sys_name(sel[1], where)
        return sel

    def text(self, value: Any, where: str) -> str:
        """A Dify template as ours (the {{#node.var#}} syntax is the same)."""

        def rewrite(match: re.Match[str]) -> str:
            parts = match.group(1).split(".")
            if parts[0] in self.start_ids and len(parts) > 2 and parts[1] == "sys":
                parts = parts[1:]
            if parts[0] == "sys":
                parts[1] = self._sys_name(parts[1], where)
            return "{{#" + ".".join(parts) + "#}}"

        return TEMPLATE_REF.sub(rewrite, value if isinstance(value, str) else "")

    def _sys_name(self, name: str, where: str) -> str:
        if name in SYS_RENAMES:
            self.note("info", where, f"sys.{name} is sys.{SYS_RENAMES[name]} here")
            return SYS_RENAMES[name]
        if name not in SYS_VARIABLES:
            self.note("needs_mapping", where, f"Dify's sys.{name} has no counterpart here")
        return name

    def var_type(self, value: Any, where: str, default: str = "any") -> str:
        """A Dify variable type as ours (file types become objects, with a note)."""
        kind = str(value or default)
        if kind.startswith("Array["):
            kind = kind.lower()
        if kind in VAR_TYPES:
            return kind
        if kind in ("file", "array[file]"):
            self.note("needs_mapping", where, f"type {kind}: files are objects here; check it")
        elif kind not in _DIFY_TYPES:
            self.note("needs_mapping", where, f"unknown type {kind!r}, read as any")
        return _DIFY_TYPES.get(kind, "any")

    def mappings(self, value: Any, where: str, severity: Severity = "needs_mapping") -> list[Data]:
        """Dify [{variable, value_selector}] as ours; unbound ones are left out."""
        out: list[Data] = []
        for i, item in enumerate(dicts(value)):
            name = str(item.get("variable") or "")
            sel = self.selector(item.get("value_selector"), f"{where}.{i}.value_selector")
            if len(sel) < 2:
                self.note(severity, f"{where}.{i}", f"{name!r} is bound to no value; left out")
                continue
            out.append({"variable": name, "value_selector": sel})
        return out


DifyMapper = Callable[[Data, MappingContext], Data]


@dataclass(frozen=True)
class DifyMapping:
    """How a node type imports from Dify: the Dify node types it stands for (older names
    included) and the mapper of their data."""

    types: tuple[str, ...]
    mapper: DifyMapper


def as_dict(value: Any) -> Data:
    """``value`` if it is a mapping, else an empty one (Dify fields may be null)."""
    return value if isinstance(value, dict) else {}


def dicts(value: Any) -> list[Data]:
    """The mappings in ``value`` if it is a list, else none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def clamp(value: Any, low: float, high: float) -> float | None:
    """A number of ``value`` bounded to [low, high]; None if it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(max(value, low), high)


def common_settings(raw: Data, m: MappingContext) -> Data:
    """Dify's per-node error strategy, default values and retry as our common settings."""
    out: Data = {}
    strategy = raw.get("error_strategy")
    if strategy == "fail-branch":
        out["error_strategy"] = "fail_branch"
    elif strategy == "default-value":
        out["error_strategy"] = "default_value"
        out["default_value"] = _default_values(raw.get("default_value"), m)
    elif strategy not in (None, "", "none"):
        m.note("needs_mapping", "error_strategy", f"unknown error strategy {strategy!r}")
    retry = raw.get("retry_config")
    if isinstance(retry, dict) and retry.get("retry_enabled"):
        tries = int(clamp(retry.get("max_retries"), 0, 100) or 0) + 1
        interval = (clamp(retry.get("retry_interval"), 0, 10**9) or 0) / 1000
        if tries > 10 or interval > 60:
            m.note("info", "retry", "retries capped at 10 tries, 60 s apart")
        out["retry"] = {"max_attempts": min(tries, 10), "interval_s": min(interval, 60.0)}
    return out


def _default_values(value: Any, m: MappingContext) -> Data:
    out: Data = {}
    for item in dicts(value):
        key, kind, val = str(item.get("key") or ""), item.get("type"), item.get("value")
        if isinstance(val, str) and kind not in (None, "string"):
            try:
                val = json.loads(val)
            except ValueError:
                m.note("needs_mapping", f"default_value.{key}", f"{val!r} is not a {kind}")
        if kind == "array[file]":
            m.note("dropped", f"default_value.{key}", "file default values are not supported")
            continue
        out[key] = val
    return out


def model_settings(raw: Any, m: MappingContext) -> Data:
    raw = as_dict(raw)
    params = as_dict(raw.get("completion_params"))
    out: Data = {"name": None}
    temperature = clamp(params.get("temperature"), 0, 2)
    if temperature is not None:
        out["temperature"] = temperature
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1:
        out["max_tokens"] = max_tokens
    if raw.get("name"):
        source = "/".join(str(p) for p in (raw.get("provider"), raw.get("name")) if p)
        m.note("info", "model.name", f"model {source} is now the server's default model")
    return out


def drop_vision(raw: Data, m: MappingContext) -> None:
    vision = raw.get("vision")
    if isinstance(vision, dict) and vision.get("enabled"):
        m.note("dropped", "vision", "vision (sending files to the model) is not supported")


def drop_memory(raw: Data, m: MappingContext) -> None:
    if isinstance(raw.get("memory"), dict):
        m.note("dropped", "memory", "this node does not read the conversation here")
