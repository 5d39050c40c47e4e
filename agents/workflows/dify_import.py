"""Import Dify workflow apps, and export / load our own workflow format.

:func:`import_dify` reads a Dify app export (DSL 0.1 to 0.6, ``workflow`` or
``advanced-chat`` apps) and returns our :class:`WorkflowSpec` with a report of what
changed, what was left out and what the user must bind (models, knowledge bases,
tools, secrets). Nothing secret is imported: secret environment variables, literal
API keys and secret-named headers are emptied and reported. The spec is returned even
when it does not compile, with the problems, so it can be fixed.

:func:`export_spec` writes a spec as YAML (``kind: chorus-workflow``), without
literal secrets; :func:`load_spec` reads it back.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Literal

import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.errors import InvalidInputError
from agents.workflows.dify_nodes import (
    NODE_MAPPERS,
    Data,
    MappingContext,
    ReportItem,
    Severity,
    as_dict,
    common_settings,
)
from agents.workflows.errors import WorkflowValidationError
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.validation import compile_workflow
from agents.workflows.variables import TEMPLATE_REF

__all__ = [
    "DifyImportResult",
    "ImportReport",
    "ReportItem",
    "Severity",
    "export_spec",
    "import_dify",
    "load_spec",
    "scrub_secrets",
]

log = structlog.get_logger(__name__)
MAX_TEXT_BYTES = 10 * 1024 * 1024
EXPORT_KIND = "chorus-workflow"
EXPORT_VERSION = 1
#: The newest Dify DSL minor version whose fields this importer knows.
KNOWN_MINOR = 6
_MODES: dict[str, Literal["workflow", "chat"]] = {"workflow": "workflow", "advanced-chat": "chat"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
#: Severities that leave a spec not ready to run as it ran in Dify.
_BLOCKING = {"needs_mapping", "secret_removed"}
_SECRET_MESSAGE = "a literal secret was removed: enter it again, better as {{#env.NAME#}}"
#: Names of headers, query parameters and tool arguments whose literal values are secrets.
SECRET_NAME = re.compile(r"auth|api[-_]?key|^key$|token|secret|passw|cookie|credential", re.I)
_SCHEME = re.compile(r"^(bearer|basic|token)\b", re.I)


class ImportReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsl_version: str = Field(description="The Dify DSL version of the export.")
    mode: str = Field(description="The Dify app mode: 'workflow' or 'advanced-chat'.")
    imported_nodes: int = Field(description="Dify nodes imported (notes and dropped ones not).")
    items: list[ReportItem] = Field(
        default_factory=list, description="What changed, was left out or needs the user."
    )
    ready: bool = Field(
        description="The spec compiles, nothing needs mapping and no secret must be re-entered."
    )


class DifyImportResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: WorkflowSpec = Field(description="The imported workflow (even if it does not compile).")
    report: ImportReport = Field(description="What the import did.")
    validation_errors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="compile_workflow's problems [{node_id, field, message}], if any.",
    )


def import_dify(text: str | bytes) -> DifyImportResult:
    """Import a Dify workflow app export; raises InvalidInputError naming the field
    when the text is not a Dify workflow app of a DSL version this reads."""
    doc = _read_yaml(text, "the Dify DSL")
    kind = doc.get("kind")
    if kind != "app":
        hint = " (this is a Chorus export: load it with load_spec)" if kind == EXPORT_KIND else ""
        raise InvalidInputError(
            f"kind is {kind!r}; a Dify app export has 'kind: app'{hint}", param="kind"
        )
    items: list[ReportItem] = []
    version = _check_version(doc.get("version"), items)
    app = as_dict(doc.get("app"))
    dify_mode = app.get("mode")
    if not dify_mode:
        raise InvalidInputError("app.mode is missing: not a Dify app export", param="app.mode")
    if dify_mode not in _MODES:
        raise InvalidInputError(
            "only workflow apps import (Dify 'workflow' and 'advanced-chat' apps); "
            f"this is a {dify_mode!r} app",
            param="app.mode",
        )
    mode = _MODES[str(dify_mode)]
    workflow = as_dict(doc.get("workflow"))
    graph = as_dict(workflow.get("graph"))
    if not isinstance(graph.get("nodes"), list):
        raise InvalidInputError(
            "workflow.graph.nodes is missing: not a Dify workflow export",
            param="workflow.graph.nodes",
        )
    nodes, edges, imported = _graph(graph, mode, items)
    if not nodes:
        raise InvalidInputError(
            "no node of this workflow could be imported", param="workflow.graph.nodes"
        )
    environment = _environment(workflow.get("environment_variables"), items)
    conversation = _conversation(workflow.get("conversation_variables"), items)
    _features(workflow.get("features"), items)
    try:
        spec = WorkflowSpec(
            name=str(app.get("name") or "").strip()[:200] or "workflow",
            description=str(app.get("description") or ""),
            mode=mode,
            nodes=nodes,
            edges=edges,
            environment=environment,
            conversation_variables=conversation,
        )
    except ValidationError as exc:  # pragma: no cover - the mapping builds valid specs
        raise InvalidInputError(f"the workflow cannot be imported: {exc}") from exc
    errors: list[dict[str, Any]] = []
    try:
        compile_workflow(spec)
    except WorkflowValidationError as exc:
        errors = exc.problems
    ready = not errors and not any(i.severity in _BLOCKING for i in items)
    report = ImportReport(
        dsl_version=version, mode=str(dify_mode), imported_nodes=imported, items=items, ready=ready
    )
    log.info(
        "dify_workflow_imported",
        dsl_version=version,
        nodes=imported,
        items=len(items),
        problems=len(errors),
        ready=ready,
    )
    return DifyImportResult(spec=spec, report=report, validation_errors=errors)


class _ExportDumper(yaml.SafeDumper):
    """Writes repeated values out in full: the readers refuse aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def export_spec(spec: WorkflowSpec) -> str:
    """``spec`` as YAML in our own format, with literal secrets emptied."""
    workflow = spec.model_dump(mode="json", by_alias=True)
    for node in workflow["nodes"]:
        scrub_secrets(node["type"], node["data"])
    document = {"kind": EXPORT_KIND, "version": EXPORT_VERSION, "workflow": workflow}
    return yaml.dump(document, Dumper=_ExportDumper, sort_keys=False, allow_unicode=True)


def load_spec(text: str | bytes) -> WorkflowSpec:
    """Read what :func:`export_spec` wrote; raises InvalidInputError naming the field."""
    doc = _read_yaml(text, "the workflow file")
    if doc.get("kind") != EXPORT_KIND:
        hint = " (a Dify export: import it with import_dify)" if doc.get("kind") == "app" else ""
        raise InvalidInputError(
            f"kind is {doc.get('kind')!r}, not {EXPORT_KIND!r}{hint}", param="kind"
        )
    if doc.get("version") != EXPORT_VERSION:
        raise InvalidInputError(
            f"version {doc.get('version')!r} is not supported (this reads {EXPORT_VERSION})",
            param="version",
        )
    try:
        return WorkflowSpec.model_validate(doc.get("workflow"))
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in ("workflow", *e["loc"])), "message": e["msg"]}
            for e in exc.errors()[:20]
        ]
        raise InvalidInputError(
            f"invalid workflow at '{errors[0]['field']}': {errors[0]['message']}",
            param=errors[0]["field"],
            details={"errors": errors},
        ) from exc


def is_literal_secret(value: str) -> bool:
    """Does ``value`` hold literal text beyond references (and a 'Bearer ' prefix)?"""
    rest = TEMPLATE_REF.sub("", value).strip()
    return bool(_SCHEME.sub("", rest).strip())


def scrub_secrets(node_type: str, data: Data) -> list[str]:
    """Empty, in place, the literal secrets of one node's data (our shape): an
    http-request's authorization key and secret-named headers, query parameters and
    form fields, a tool's secret-named arguments. References such as
    ``{{#env.NAME#}}`` stay. Returns the fields emptied."""
    emptied: list[str] = []

    def check(holder: Data, key: str, where: str) -> None:
        value = holder.get(key)
        if isinstance(value, str) and is_literal_secret(value):
            holder[key] = ""
            emptied.append(where)

    if node_type == "http-request":
        auth = data.get("authorization")
        if isinstance(auth, dict):
            check(auth, "api_key", "data.authorization.api_key")
        body = data.get("body")
        lists = {
            "headers": data.get("headers"),
            "params": data.get("params"),
            "body.data": body.get("data") if isinstance(body, dict) else None,
        }
        for name, pairs in lists.items():
            for i, kv in enumerate(pairs if isinstance(pairs, list) else []):
                if isinstance(kv, dict) and SECRET_NAME.search(str(kv.get("key", ""))):
                    check(kv, "value", f"data.{name}.{i}.value")
    elif node_type == "tool":
        for name, arg in (data.get("tool_parameters") or {}).items():
            if isinstance(arg, dict) and arg.get("type") != "variable" and SECRET_NAME.search(name):
                check(arg, "value", f"data.tool_parameters.{name}.value")
    return emptied


def _read_yaml(text: str | bytes, what: str) -> Data:
    if len(text) > MAX_TEXT_BYTES:
        raise InvalidInputError(f"{what} is larger than {MAX_TEXT_BYTES // 2**20} MiB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{what} is not UTF-8 text") from exc
    try:
        # Aliases are refused: expanded, a few lines of them can take all the memory.
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=_LOADER)):
            raise InvalidInputError(f"{what} uses YAML aliases (*name), which are not accepted")
        doc = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{what} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{what} is not a YAML mapping")
    # JSON types only from here on (YAML dates become text, keys strings).
    normal: Data = json.loads(json.dumps(doc, default=str))
    return normal


def _check_version(value: Any, items: list[ReportItem]) -> str:
    if value is None:
        items.append(_item("info", "version", "no DSL version: read as 0.1.0"))
        return "0.1.0"
    version = str(value).strip()
    match = _VERSION.fullmatch(version)
    if not match:
        raise InvalidInputError(
            f"version {version!r} is not a Dify DSL version (0.1.x to 0.{KNOWN_MINOR}.x)",
            param="version",
        )
    if int(match[1]) != 0:
        raise InvalidInputError(
            f"Dify DSL version {version} is not supported: this reads 0.1.x to 0.{KNOWN_MINOR}.x",
            param="version",
        )
    if int(match[2]) > KNOWN_MINOR:
        items.append(
            _item(
                "info",
                "version",
                f"DSL {version} is newer than 0.{KNOWN_MINOR}: "
                "fields this importer does not know were ignored",
            )
        )
    return version


def _item(
    severity: Severity, where: str | None, message: str, node: str | None = None
) -> ReportItem:
    return ReportItem(severity=severity, node_id=node, field=where, message=message)


def _dicts(value: Any) -> list[Data]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _parent(node: Data, data: Data) -> str | None:
    """The container a node sits in: ``parentId``, or the older data fields."""
    parent = node.get("parentId")
    if not parent and data.get("isInIteration"):
        parent = data.get("iteration_id")
    if not parent and data.get("isInLoop"):
        parent = data.get("loop_id")
    return str(parent) if parent else None


def _graph(
    graph: Data, mode: Literal["workflow", "chat"], items: list[ReportItem]
) -> tuple[list[NodeSpec], list[Edge], int]:
    """The nodes and edges; returns them and how many Dify nodes were imported."""
    raw_edges = _dicts(graph.get("edges"))
    kept: list[tuple[str, Data, str | None]] = []
    dropped: dict[str, str] = {}
    notes: set[str] = set()
    for i, node in enumerate(_dicts(graph.get("nodes"))):
        data = as_dict(node.get("data"))
        node_id, kind = str(node.get("id") or ""), str(data.get("type") or "")
        if not node_id:
            items.append(_item("dropped", f"workflow.graph.nodes.{i}", "a node without an id"))
        elif node.get("type") == "custom-note" or not kind:
            notes.add(node_id)
            items.append(_item("info", None, "canvas note left out", node_id))
        elif kind not in NODE_MAPPERS:
            dropped[node_id] = f"Dify node type {kind!r} has no counterpart here"
        else:
            kept.append((node_id, node, _parent(node, data)))
    while any(parent in dropped for _, _, parent in kept):
        for node_id, _, parent in kept:
            if parent in dropped:
                dropped[node_id] = f"it was inside {parent}, which was left out"
        kept = [k for k in kept if k[0] not in dropped]
    touching = Counter(
        end for e in raw_edges for end in {str(e.get("source")), str(e.get("target"))}
    )
    for node_id, reason in dropped.items():
        message = f"{reason}; left out with its {touching[node_id]} edge(s)"
        items.append(_item("dropped", "type", message, node_id))

    start_ids = {nid for nid, node, _ in kept if node["data"]["type"] == "start"}
    nodes: list[NodeSpec] = []
    for node_id, node, parent in kept:
        data = node["data"]
        our_type, mapper = NODE_MAPPERS[data["type"]]
        context = MappingContext(node_id=node_id, mode=mode, items=items, start_ids=start_ids)
        mapped = {**common_settings(data, context), **mapper(data, context)}
        if data["type"] != our_type:
            context.note("info", None, f"the older {data['type']!r} type is {our_type!r}")
        for where in scrub_secrets(our_type, mapped):
            items.append(_item("secret_removed", where, _SECRET_MESSAGE, node_id))
        title = str(data.get("title") or "")
        nodes.append(
            NodeSpec(id=node_id, type=our_type, title=title, data=mapped, parent_id=parent)
        )

    edges = _iteration_starts(nodes, items)
    seen = {(e.source, e.target, e.source_handle) for e in edges}
    for edge in raw_edges:
        source, target = str(edge.get("source") or ""), str(edge.get("target") or "")
        if {source, target} & (set(dropped) | notes):
            continue
        handle = str(edge.get("sourceHandle") or "source")
        if (source, target, handle) in seen:
            items.append(_item("info", "edges", f"duplicate edge {source} -> {target} left out"))
            continue
        seen.add((source, target, handle))
        edge_id = str(edge["id"]) if edge.get("id") else None
        edges.append(Edge(id=edge_id, source=source, target=target, source_handle=handle))
    return nodes, edges, len(kept)


def _iteration_starts(nodes: list[NodeSpec], items: list[ReportItem]) -> list[Edge]:
    """Older DSLs start an iteration at its first inner node: add the iteration-start
    node ours needs, and the edge from it. Returns the edges added."""
    by_id = {n.id: n for n in nodes}
    edges: list[Edge] = []
    for node in [n for n in nodes if n.type == "iteration"]:
        first = by_id.get(str(node.data.get("start_node_id")))
        if first is None or first.parent_id != node.id or first.type == "iteration-start":
            continue
        start_id = f"{node.id}start"
        while start_id in by_id:
            start_id += "0"
        by_id[start_id] = NodeSpec(id=start_id, type="iteration-start", parent_id=node.id)
        nodes.append(by_id[start_id])
        edges.append(Edge(id=f"{start_id}-{first.id}", source=start_id, target=first.id))
        node.data["start_node_id"] = start_id
        items.append(
            _item(
                "info",
                "data.start_node_id",
                f"added iteration-start node {start_id} before {first.id} (older DSL)",
                node.id,
            )
        )
    return edges


def _environment(value: Any, items: list[ReportItem]) -> dict[str, str | int | float | bool]:
    env: dict[str, str | int | float | bool] = {}
    for var in _dicts(value):
        name, kind, val = str(var.get("name") or ""), var.get("value_type"), var.get("value")
        if not name:
            continue
        where = f"environment.{name}"
        if kind == "secret":
            env[name] = ""
            items.append(
                _item(
                    "secret_removed",
                    where,
                    "secret environment variable: its value is not imported; set it on this server",
                )
            )
        elif isinstance(val, str | int | float | bool):
            env[name] = val
        else:
            env[name] = "" if val is None else json.dumps(val, ensure_ascii=False)
        if kind not in ("secret", "string", "number", None):
            items.append(_item("info", where, f"{kind} environment variable kept as text"))
    return env


def _conversation(value: Any, items: list[ReportItem]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for var in _dicts(value):
        name = str(var.get("name") or "")
        if not name:
            continue
        variables[name] = var.get("value")
        if "file" in str(var.get("value_type")):
            where = f"conversation_variables.{name}"
            items.append(_item("needs_mapping", where, "file conversation variables are objects"))
    return variables


def _features(value: Any, items: list[ReportItem]) -> None:
    """Chat app features live outside the workflow here: note those that were on."""
    features = as_dict(value)
    switched = [
        key
        for key in (
            "speech_to_text",
            "text_to_speech",
            "suggested_questions_after_answer",
            "sensitive_word_avoidance",
        )
        if isinstance(features.get(key), dict) and features[key].get("enabled")
    ]
    switched += [k for k in ("opening_statement", "suggested_questions") if features.get(k)]
    for key in switched:
        items.append(_item("dropped", f"features.{key}", "app features are not part of a workflow"))
    upload = as_dict(features.get("file_upload"))
    image = as_dict(upload.get("image"))
    if upload.get("enabled") or image.get("enabled"):
        items.append(
            _item(
                "info",
                "features.file_upload",
                "upload settings are not imported; sys.files holds the files a run receives",
            )
        )
