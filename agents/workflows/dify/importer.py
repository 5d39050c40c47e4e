"""Import Dify workflow apps.

:func:`import_dify` reads a Dify app export (DSL 0.1 to 0.6, ``workflow`` or
``advanced-chat`` apps) and returns our :class:`WorkflowSpec` with a report of what
changed, what was left out and what the user must bind (models, knowledge bases,
tools, secrets). Each Dify node's data is mapped by the node type that imports it
(found in the node registry: see :mod:`agents.workflows.dify.mapping`). Nothing secret
is imported: secret environment variables, literal API keys and secret-named headers
are emptied and reported. The spec is returned even when it does not compile, with
the problems, so it can be fixed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Literal

import structlog
from pydantic import ValidationError

from agents.errors import InvalidInputError
from agents.workflows.dify.mapping import (
    Data,
    DifyMapper,
    MappingContext,
    as_dict,
    common_settings,
    dicts,
)
from agents.workflows.dify.report import DifyImportResult, ImportReport, ReportItem, Severity
from agents.workflows.errors import WorkflowValidationError
from agents.workflows.export import EXPORT_KIND, read_yaml, scrub_secrets
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.nodes.registry import NodeRegistry, default_registry
from agents.workflows.validation import compile_workflow

log = structlog.get_logger(__name__)
#: The newest Dify DSL minor version whose fields this importer knows.
KNOWN_MINOR = 6
_MODES: dict[str, Literal["workflow", "chat"]] = {"workflow": "workflow", "advanced-chat": "chat"}
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
#: Severities that leave a spec not ready to run as it ran in Dify.
_BLOCKING = {"needs_mapping", "secret_removed"}
_SECRET_MESSAGE = "a literal secret was removed: enter it again, better as {{#env.NAME#}}"


def import_dify(text: str | bytes, registry: NodeRegistry | None = None) -> DifyImportResult:
    """Import a Dify workflow app export (node types from ``registry``, the default one
    unless given); raises InvalidInputError naming the field when the text is not a Dify
    workflow app of a DSL version this reads."""
    doc = read_yaml(text, "the Dify DSL")
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
    nodes, edges, imported = _graph(graph, mode, items, registry or default_registry())
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
        compile_workflow(spec, registry)
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


def _parent(node: Data, data: Data) -> str | None:
    """The container a node sits in: ``parentId``, or the older data fields."""
    parent = node.get("parentId")
    if not parent and data.get("isInIteration"):
        parent = data.get("iteration_id")
    if not parent and data.get("isInLoop"):
        parent = data.get("loop_id")
    return str(parent) if parent else None


def _graph(
    graph: Data, mode: Literal["workflow", "chat"], items: list[ReportItem], registry: NodeRegistry
) -> tuple[list[NodeSpec], list[Edge], int]:
    """The nodes and edges; returns them and how many Dify nodes were imported."""
    raw_edges = dicts(graph.get("edges"))
    mappers: dict[str, tuple[str, DifyMapper]] = {}
    kept: list[tuple[str, Data, str | None]] = []
    dropped: dict[str, str] = {}
    notes: set[str] = set()
    for i, node in enumerate(dicts(graph.get("nodes"))):
        data = as_dict(node.get("data"))
        node_id, kind = str(node.get("id") or ""), str(data.get("type") or "")
        if not node_id:
            items.append(_item("dropped", f"workflow.graph.nodes.{i}", "a node without an id"))
        elif node.get("type") == "custom-note" or not kind:
            notes.add(node_id)
            items.append(_item("info", None, "canvas note left out", node_id))
        elif (found := registry.dify_mapper(kind)) is None:
            dropped[node_id] = f"Dify node type {kind!r} has no counterpart here"
        else:
            mappers[kind] = found
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
        our_type, mapper = mappers[data["type"]]
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
    for var in dicts(value):
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
    for var in dicts(value):
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
