"""Map the ``data`` of each Dify workflow node type onto ours (used by
:mod:`agents.workflows.dify_import`).

Each mapper takes the Dify node's ``data`` (any DSL version 0.1–0.6) and a
:class:`MappingContext`, returns our node type's data as a plain dict and notes on
the context whatever it changed, dropped or could not map. Mappers never raise on odd
input: what they cannot read is noted and left for :func:`compile_workflow` to name.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.variables import SYS_VARIABLES, TEMPLATE_REF, VAR_TYPES

Data = dict[str, Any]
Severity = Literal["info", "needs_mapping", "dropped", "secret_removed"]


class ReportItem(BaseModel):
    """One thing the import changed, left out or needs the user for."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity = Field(
        description="info: changed, works; needs_mapping: bind or fix before it runs as in "
        "Dify; dropped: left out; secret_removed: a secret was emptied and must be re-entered."
    )
    node_id: str | None = Field(default=None, description="The node concerned, if any.")
    field: str | None = Field(default=None, description="The field concerned, e.g. 'data.url'.")
    message: str = Field(description="What happened and what to do.")


#: Dify system variables under another name here.
SYS_RENAMES = {"workflow_run_id": "run_id"}
#: Dify comparison operators spelled otherwise here.
_OPERATORS = {
    "is null": "null",
    "is not null": "not null",
    "exists": "not null",
    "not exists": "null",
}
_KNOWN_OPERATORS = {
    *("contains", "not contains", "start with", "end with", "is", "is not", "empty"),
    *("not empty", "in", "not in", "all of", "=", "≠", ">", "<", "≥", "≤", "null", "not null"),
}
_UNARY = {"empty", "not empty", "null", "not null"}
#: Dify variable types that are not ours, and what they become.
_DIFY_TYPES = {
    "secret": "string",
    "array": "array[any]",
    "file": "object",
    "array[file]": "array[object]",
}
_PARAMETER_TYPES = {"bool": "boolean", "select": "string"}


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
        for i, item in enumerate(_list(value)):
            name = str(item.get("variable") or "")
            sel = self.selector(item.get("value_selector"), f"{where}.{i}.value_selector")
            if len(sel) < 2:
                self.note(severity, f"{where}.{i}", f"{name!r} is bound to no value; left out")
                continue
            out.append({"variable": name, "value_selector": sel})
        return out


def as_dict(value: Any) -> Data:
    """``value`` if it is a mapping, else an empty one (Dify fields may be null)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Data]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _clamp(value: Any, low: float, high: float) -> float | None:
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
        tries = int(_clamp(retry.get("max_retries"), 0, 100) or 0) + 1
        interval = (_clamp(retry.get("retry_interval"), 0, 10**9) or 0) / 1000
        if tries > 10 or interval > 60:
            m.note("info", "retry", "retries capped at 10 tries, 60 s apart")
        out["retry"] = {"max_attempts": min(tries, 10), "interval_s": min(interval, 60.0)}
    return out


def _default_values(value: Any, m: MappingContext) -> Data:
    out: Data = {}
    for item in _list(value):
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


def _model(raw: Any, m: MappingContext) -> Data:
    raw = as_dict(raw)
    params = as_dict(raw.get("completion_params"))
    out: Data = {"name": None}
    temperature = _clamp(params.get("temperature"), 0, 2)
    if temperature is not None:
        out["temperature"] = temperature
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1:
        out["max_tokens"] = max_tokens
    if raw.get("name"):
        source = "/".join(str(p) for p in (raw.get("provider"), raw.get("name")) if p)
        m.note("info", "model.name", f"model {source} is now the server's default model")
    return out


def _vision(raw: Data, m: MappingContext) -> None:
    vision = raw.get("vision")
    if isinstance(vision, dict) and vision.get("enabled"):
        m.note("dropped", "vision", "vision (sending files to the model) is not supported")


def _memory_dropped(raw: Data, m: MappingContext) -> None:
    if isinstance(raw.get("memory"), dict):
        m.note("dropped", "memory", "this node does not read the conversation here")


def map_start(raw: Data, m: MappingContext) -> Data:
    kinds = {"text-input": "string", "paragraph": "string", "select": "string"}
    kinds.update({"number": "number", "checkbox": "boolean", "json_object": "object"})
    kinds.update({"file": "object", "file-list": "array[object]"})
    out: list[Data] = []
    for i, var in enumerate(_list(raw.get("variables"))):
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


def map_end(raw: Data, m: MappingContext) -> Data:
    return {"outputs": m.mappings(raw.get("outputs"), "outputs", "dropped")}


def map_answer(raw: Data, m: MappingContext) -> Data:
    return {"answer": m.text(raw.get("answer"), "answer")}


def map_llm(raw: Data, m: MappingContext) -> Data:
    out: Data = {"model": _model(raw.get("model"), m)}
    template = raw.get("prompt_template")
    messages: list[Data] = []
    if isinstance(template, dict):
        messages.append({"role": "user", "text": m.text(template.get("text"), "prompt_template")})
        m.note("info", "prompt_template", "the completion-model prompt is one user message")
        template = [template]
    else:
        for i, msg in enumerate(_list(template)):
            role = msg.get("role") if msg.get("role") in ("system", "user", "assistant") else "user"
            text = m.text(msg.get("text"), f"prompt_template.{i}.text")
            messages.append({"role": role, "text": text})
    if any(msg.get("edition_type") == "jinja2" for msg in _list(template)):
        m.note(
            "needs_mapping",
            "prompt_template",
            "Jinja2 prompts are not supported; their plain-text version was kept",
        )
    memory = raw.get("memory")
    if isinstance(memory, dict) and m.mode == "chat":
        window = as_dict(memory.get("window"))
        size = _clamp(window.get("size"), 1, 100) if window.get("enabled") else None
        if size is None:
            m.note("info", "memory.window", "unlimited memory is the last 100 messages here")
        out["memory"] = {"window": int(size or 100)}
        query = m.text(memory.get("query_prompt_template") or "{{#sys.query#}}", "memory")
        messages.append({"role": "user", "text": query})
        m.note(
            "info",
            "prompt_template",
            "with memory, Dify sends the user's message last; it is now the prompt's last message",
        )
    elif isinstance(memory, dict):
        m.note("dropped", "memory", "memory applies only to chat workflows")
    out["prompt_template"] = messages
    context = as_dict(raw.get("context"))
    selector = m.selector(context.get("variable_selector"), "context.variable_selector")
    if context.get("enabled") and len(selector) >= 2:
        out["context"] = {"enabled": True, "variable_selector": selector}
    structured = raw.get("structured_output")
    enabled = raw.get("structured_output_enabled") or raw.get("structured_output_switch_on")
    if enabled and isinstance(structured, dict) and isinstance(structured.get("schema"), dict):
        out["structured_output"] = {"schema": structured["schema"]}
    _vision(raw, m)
    return out


def map_knowledge_retrieval(raw: Data, m: MappingContext) -> Data:
    ids = [str(i) for i in raw.get("dataset_ids") or []]
    out: Data = {
        "query_variable_selector": m.selector(
            raw.get("query_variable_selector"), "query_variable_selector"
        ),
        "dataset_ids": ids,
    }
    if ids:
        m.note(
            "needs_mapping",
            "dataset_ids",
            f"bind a knowledge base: Dify dataset(s) {', '.join(ids)} are not knowledge bases here",
        )
    config = raw.get("multiple_retrieval_config")
    if raw.get("retrieval_mode") == "multiple" and isinstance(config, dict):
        top_k = _clamp(config.get("top_k"), 1, 200)
        if top_k is not None:
            out["top_k"] = int(top_k)
        if _clamp(config.get("score_threshold"), 0, 1) is not None:
            out["score_threshold"] = config["score_threshold"]
            m.note("info", "score_threshold", "scores are on this server's scale; check it")
        weights = as_dict(config.get("weights"))
        alpha = _clamp(as_dict(weights.get("vector_setting")).get("vector_weight"), 0, 1)
        if config.get("reranking_mode") == "weighted_score" and alpha is not None:
            out["mode"] = "vector" if alpha == 1 else "keyword" if alpha == 0 else "hybrid"
            out["alpha"] = alpha
        elif config.get("reranking_enable") and config.get("reranking_model"):
            m.note("dropped", "reranking_model", "reranking models are not used; hybrid search")
    else:
        m.note(
            "info",
            "retrieval_mode",
            "single retrieval (a model picks one dataset) is a search across all the datasets here",
        )
    if raw.get("metadata_filtering_mode") not in (None, "disabled"):
        m.note("dropped", "metadata_filtering_mode", "metadata filtering is not supported")
    return out


def map_code(raw: Data, m: MappingContext) -> Data:
    language = str(raw.get("code_language") or "python3")
    code = str(raw.get("code") or "")
    outputs = as_dict(raw.get("outputs"))
    out: Data = {
        "code_language": language,
        "code": code,
        "variables": m.mappings(raw.get("variables"), "variables"),
        "outputs": {
            str(name): {"type": m.var_type(as_dict(spec).get("type"), f"outputs.{name}.type")}
            for name, spec in outputs.items()
        },
    }
    if language not in ("python3", "javascript"):
        m.note("needs_mapping", "code_language", f"{language} code does not run here")
    if raw.get("dependencies"):
        m.note("dropped", "dependencies", "declared dependencies are not installed here")
    if language == "python3":
        outside = _non_stdlib_imports(code)
        if outside:
            m.note("info", "code", f"imports {', '.join(outside)}: check the sandbox has them")
    return out


def _non_stdlib_imports(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(n for n in names if n not in sys.stdlib_module_names)


def map_if_else(raw: Data, m: MappingContext) -> Data:
    cases = _list(raw.get("cases"))
    if not cases and isinstance(raw.get("conditions"), list):
        m.note("info", "cases", "the older single condition list is case 'true'")
        cases = [
            {
                "case_id": "true",
                "logical_operator": raw.get("logical_operator"),
                "conditions": raw["conditions"],
            }
        ]
    out: list[Data] = []
    for i, case in enumerate(cases):
        conditions = []
        for j, cond in enumerate(_list(case.get("conditions"))):
            conditions.append(_condition(cond, f"cases.{i}.conditions.{j}", m))
        logical = case.get("logical_operator") if case.get("logical_operator") == "or" else "and"
        case_id = str(case.get("case_id") or case.get("id") or "")
        out.append({"case_id": case_id, "logical_operator": logical, "conditions": conditions})
    return {"cases": out}


def _condition(cond: Data, where: str, m: MappingContext) -> Data:
    operator = str(cond.get("comparison_operator") or "")
    operator = _OPERATORS.get(operator, operator)
    if operator not in _KNOWN_OPERATORS:
        m.note("needs_mapping", f"{where}.comparison_operator", f"no operator {operator!r} here")
    value = cond.get("value")
    if cond.get("value_type") == "value_selector":
        ref = m.selector(cond.get("value_selector"), f"{where}.value_selector")
        value = "{{#" + ".".join(ref) + "#}}"
    elif isinstance(value, str):
        value = m.text(value, f"{where}.value")
    if operator in _UNARY:
        value = None
    if cond.get("sub_variable_condition"):
        m.note("needs_mapping", where, "conditions on file attributes are not supported")
    selector = m.selector(cond.get("variable_selector"), f"{where}.variable_selector")
    return {"variable_selector": selector, "comparison_operator": operator, "value": value}


def map_variable_aggregator(raw: Data, m: MappingContext) -> Data:
    def selectors(value: Any, where: str) -> list[list[str]]:
        items = value if isinstance(value, list) else []
        return [m.selector(s, f"{where}.{i}") for i, s in enumerate(items)]

    advanced = raw.get("advanced_settings")
    groups = _list(advanced.get("groups")) if isinstance(advanced, dict) else []
    if isinstance(advanced, dict) and advanced.get("group_enabled") and groups:
        return {
            "groups": [
                {
                    "group_name": str(g.get("group_name") or ""),
                    "output_type": m.var_type(g.get("output_type"), f"groups.{i}.output_type"),
                    "variables": selectors(g.get("variables"), f"groups.{i}.variables"),
                }
                for i, g in enumerate(groups)
            ]
        }
    return {
        "output_type": m.var_type(raw.get("output_type"), "output_type"),
        "variables": selectors(raw.get("variables"), "variables"),
    }


def _pairs(value: Any, where: str, m: MappingContext) -> list[Data]:
    """Dify's 'key:value' lines (or [{key, value}]) as our key/values."""
    if isinstance(value, list):
        items = [(str(kv.get("key") or ""), kv.get("value")) for kv in _list(value)]
    else:
        lines = str(value or "").splitlines()
        items = [(ln.partition(":")[0], ln.partition(":")[2]) for ln in lines if ln.strip()]
    return [
        {
            "key": m.text(k.strip(), f"{where}.{i}.key"),
            "value": m.text(str(v or "").strip(), f"{where}.{i}.value"),
        }
        for i, (k, v) in enumerate(items)
        if k.strip()
    ]


def map_http_request(raw: Data, m: MappingContext) -> Data:
    method = str(raw.get("method") or "get").upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
        m.note("needs_mapping", "method", f"method {method} is not supported; set to GET")
        method = "GET"
    out: Data = {
        "method": method,
        "url": m.text(raw.get("url"), "url"),
        "headers": _pairs(raw.get("headers"), "headers", m),
        "params": _pairs(raw.get("params"), "params", m),
        "body": _body(raw.get("body"), m),
        "authorization": _authorization(raw.get("authorization"), m),
        # Dify fails on a 4xx/5xx answer only when an error strategy or retry is set.
        "fail_on_error_status": bool(
            raw.get("error_strategy") not in (None, "", "none")
            or as_dict(raw.get("retry_config")).get("retry_enabled")
        ),
    }
    timeout = as_dict(raw.get("timeout"))
    seconds = sum(float(v) for v in timeout.values() if _clamp(v, 0, 3600))
    if seconds:
        out["timeout_s"] = min(float(seconds), 3600.0)
    if raw.get("ssl_verify") is False:
        m.note("dropped", "ssl_verify", "certificates are always verified here")
    return out


def _body(raw: Any, m: MappingContext) -> Data:
    raw = as_dict(raw)
    kind, data = str(raw.get("type") or "none"), raw.get("data")
    if kind in ("json", "raw-text"):
        if isinstance(data, list):
            data = next((str(i.get("value") or "") for i in _list(data)), "")
        return {"type": kind, "data": m.text(data, "body.data")}
    if kind in ("x-www-form-urlencoded", "form-data"):
        files = [i for i in _list(data) if i.get("type") == "file"]
        if files:
            m.note("dropped", "body.data", "file fields of a form body are not supported")
        fields = [i for i in data if i not in files] if isinstance(data, list) else data
        return {"type": kind, "data": _pairs(fields, "body.data", m)}
    if kind not in ("none", ""):
        m.note("needs_mapping", "body.type", f"a {kind} body is not supported; it was left out")
    return {"type": "none", "data": ""}


def _authorization(raw: Any, m: MappingContext) -> Data:
    raw = as_dict(raw)
    config = as_dict(raw.get("config"))
    if raw.get("type") != "api-key":
        return {"type": "no-auth"}
    kind = config.get("type")
    key = m.text(str(config.get("api_key") or ""), "authorization.api_key")
    header = str(config.get("header") or "Authorization")
    if kind == "custom":
        return {"type": "api-key-header", "api_key": key, "name": header}
    if header.lower() != "authorization":
        prefix = "Bearer " if kind == "bearer" else "Basic "
        m.note("info", "authorization", f"{kind} auth in header {header} is an api-key header")
        return {"type": "api-key-header", "api_key": prefix + key, "name": header}
    if kind == "basic":
        m.note("info", "authorization.api_key", "basic auth takes 'user:password' here")
        return {"type": "basic", "api_key": key}
    return {"type": "bearer", "api_key": key}


def map_tool(raw: Data, m: MappingContext) -> Data:
    name = str(raw.get("tool_name") or "")
    arguments: Data = {}
    configurations = raw.get("tool_configurations")
    for key, value in as_dict(configurations).items():
        if isinstance(value, dict) and "type" in value:  # newer DSLs: {type, value}
            if value.get("value") is not None:
                arguments[str(key)] = _tool_argument(value, str(key), m)
        elif value is not None:
            arguments[str(key)] = {"type": "constant", "value": value}
    parameters = raw.get("tool_parameters")
    for key, value in as_dict(parameters).items():
        if isinstance(value, dict) and value.get("value") is not None:
            arguments[str(key)] = _tool_argument(value, str(key), m)
    plugin = raw.get("plugin_unique_identifier")
    provider = str(raw.get("provider_id") or raw.get("provider_name") or "")
    source = (
        f"marketplace plugin {plugin}" if plugin else f"{provider} ({raw.get('provider_type')})"
    )
    m.note(
        "needs_mapping",
        "tool_name",
        f"Dify tool {name!r} from {source}: "
        "bind one of this server's tools of that name or pick another",
    )
    return {"tool_name": name, "tool_parameters": arguments}


def _tool_argument(value: Data, key: str, m: MappingContext) -> Data:
    kind = value.get("type")
    where = f"tool_parameters.{key}.value"
    if kind == "variable":
        return {"type": "variable", "value": m.selector(value.get("value"), where)}
    if kind == "mixed":
        return {"type": "mixed", "value": m.text(str(value.get("value") or ""), where)}
    return {"type": "constant", "value": value.get("value")}


def map_template_transform(raw: Data, m: MappingContext) -> Data:
    return {
        "variables": m.mappings(raw.get("variables"), "variables"),
        "template": str(raw.get("template") or ""),
    }


def map_question_classifier(raw: Data, m: MappingContext) -> Data:
    instruction = raw.get("instruction") or raw.get("instructions") or ""
    _memory_dropped(raw, m)
    _vision(raw, m)
    return {
        "query_variable_selector": m.selector(
            raw.get("query_variable_selector"), "query_variable_selector"
        ),
        "classes": [
            {"id": str(c.get("id") or ""), "name": str(c.get("name") or "")}
            for c in _list(raw.get("classes"))
        ],
        "instruction": m.text(instruction, "instruction"),
        "model": _model(raw.get("model"), m),
    }


def map_parameter_extractor(raw: Data, m: MappingContext) -> Data:
    parameters: list[Data] = []
    for i, p in enumerate(_list(raw.get("parameters"))):
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
    _memory_dropped(raw, m)
    _vision(raw, m)
    return {
        "query": m.selector(raw.get("query"), "query"),
        "parameters": parameters,
        "instruction": m.text(raw.get("instruction") or "", "instruction"),
        "model": _model(raw.get("model"), m),
    }


def map_iteration(raw: Data, m: MappingContext) -> Data:
    mode = raw.get("error_handle_mode") or "terminated"
    if mode not in ("terminated", "continue-on-error", "remove-abnormal-output"):
        m.note("needs_mapping", "error_handle_mode", f"unknown error handling {mode!r}")
    out: Data = {
        "iterator_selector": m.selector(raw.get("iterator_selector"), "iterator_selector"),
        "output_selector": m.selector(raw.get("output_selector"), "output_selector"),
        "output_type": m.var_type(raw.get("output_type"), "output_type", "array[any]"),
        "start_node_id": str(raw.get("start_node_id") or ""),
        "is_parallel": bool(raw.get("is_parallel")),
        "error_handle_mode": mode,
    }
    parallel = _clamp(raw.get("parallel_nums"), 1, 50)
    if parallel is not None:
        out["parallel_nums"] = int(parallel)
    return out


def map_iteration_start(raw: Data, m: MappingContext) -> Data:
    return {}


#: Dify node type -> (our node type, mapper). 'variable-assigner' is the name the
#: variable aggregator had in early DSLs.
NODE_MAPPERS: dict[str, tuple[str, Callable[[Data, MappingContext], Data]]] = {
    "start": ("start", map_start),
    "end": ("end", map_end),
    "answer": ("answer", map_answer),
    "llm": ("llm", map_llm),
    "knowledge-retrieval": ("knowledge-retrieval", map_knowledge_retrieval),
    "code": ("code", map_code),
    "if-else": ("if-else", map_if_else),
    "variable-aggregator": ("variable-aggregator", map_variable_aggregator),
    "variable-assigner": ("variable-aggregator", map_variable_aggregator),
    "http-request": ("http-request", map_http_request),
    "tool": ("tool", map_tool),
    "template-transform": ("template-transform", map_template_transform),
    "question-classifier": ("question-classifier", map_question_classifier),
    "parameter-extractor": ("parameter-extractor", map_parameter_extractor),
    "iteration": ("iteration", map_iteration),
    "iteration-start": ("iteration-start", map_iteration_start),
}
