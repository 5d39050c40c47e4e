"""Check a workflow before it runs and compile it for the engine.

Every problem names the node and the field: unknown node types, node data that fails
its model, edges to nowhere or by an exit the node does not have, not exactly one
start, no reachable end (workflow mode) or answer (chat mode), nodes not connected to
the start, cycles (loops exist only as iteration), and each variable reference: it
must point at an upstream node's declared output (or ``sys``/``env``/``conversation``
values, or the enclosing iteration's ``item``/``index``) of a compatible type.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agents.workflows.errors import WorkflowValidationError
from agents.workflows.graph import FAIL_HANDLE, Edge, WorkflowSpec
from agents.workflows.nodes.base import BaseNode
from agents.workflows.nodes.iteration.node import IterationNode
from agents.workflows.nodes.registry import NodeRegistry, default_registry
from agents.workflows.nodes.start.node import StartNode
from agents.workflows.variables import SYS_VARIABLES, VarType, compatible, element_type

_ID = re.compile(r"^[A-Za-z0-9_\-]+$")
ERROR_OUTPUTS: dict[str, VarType] = {"error_message": "string", "error_type": "string"}


@dataclass
class CompiledWorkflow:
    spec: WorkflowSpec
    nodes: dict[str, BaseNode[Any]]
    start_id: str
    #: edges leaving / entering each node, as indexes into ``edges``
    edges: list[Edge]
    out_edges: dict[str, list[int]] = field(default_factory=dict)
    in_edges: dict[str, list[int]] = field(default_factory=dict)
    #: the nodes of each scope (None: top level; an iteration's id: its inside)
    scopes: dict[str | None, list[str]] = field(default_factory=dict)

    @property
    def start(self) -> StartNode:
        node = self.nodes[self.start_id]
        assert isinstance(node, StartNode)
        return node

    def parent(self, node_id: str) -> str | None:
        return self.nodes[node_id].spec.parent_id


def produced_types(node: BaseNode[Any]) -> dict[str, VarType]:
    types = dict(node.output_types())
    if node.data.error_strategy != "fail":
        types.update(ERROR_OUTPUTS)
    return types


def compile_workflow(spec: WorkflowSpec, registry: NodeRegistry | None = None) -> CompiledWorkflow:
    """Validate ``spec``; raises :class:`WorkflowValidationError` listing every problem."""
    registry = registry or default_registry()
    problems: list[dict[str, Any]] = []

    def problem(node_id: str | None, field_name: str | None, message: str) -> None:
        problems.append({"node_id": node_id, "field": field_name, "message": message})

    nodes: dict[str, BaseNode[Any]] = {}
    seen: set[str] = set()
    for spec_node in spec.nodes:
        if spec_node.id in seen:
            problem(spec_node.id, "id", "two nodes have this id")
            continue
        seen.add(spec_node.id)
        if not _ID.match(spec_node.id):
            problem(spec_node.id, "id", "ids may hold only letters, digits, '_' and '-'")
            continue
        node_class = registry.find_node(spec_node.type)
        if node_class is None:
            problem(spec_node.id, "type", f"unknown node type {spec_node.type!r}")
            continue
        try:
            data = node_class.data_model.model_validate(spec_node.data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in ("data", *err["loc"]))
                problem(spec_node.id, loc, err["msg"])
            continue
        nodes[spec_node.id] = node_class(spec_node, data)
    for node in nodes.values():
        parent = node.spec.parent_id
        if parent is not None and not isinstance(nodes.get(parent), IterationNode):
            problem(node.id, "parent_id", f"{parent!r} is not an iteration node")

    compiled = CompiledWorkflow(spec=spec, nodes=nodes, start_id="", edges=list(spec.edges))
    scopes: dict[str | None, list[str]] = defaultdict(list)
    for node in nodes.values():
        scopes[node.spec.parent_id].append(node.id)
    compiled.scopes = dict(scopes)
    out_edges: dict[str, list[int]] = defaultdict(list)
    in_edges: dict[str, list[int]] = defaultdict(list)
    for i, edge in enumerate(spec.edges):
        where = f"edges.{i}"
        source, target = nodes.get(edge.source), nodes.get(edge.target)
        if edge.source not in seen or edge.target not in seen:
            missing = edge.source if edge.source not in seen else edge.target
            problem(None, where, f"edge {edge.source} -> {edge.target}: no node {missing!r}")
            continue
        if source is None or target is None:
            continue  # the node itself is already reported
        if source.spec.parent_id != target.spec.parent_id:
            problem(edge.source, where, f"edge to {edge.target} crosses an iteration boundary")
            continue
        exits = source.handles() + (
            [FAIL_HANDLE] if source.data.error_strategy == "fail_branch" else []
        )
        if edge.source_handle not in exits:
            problem(
                edge.source,
                where,
                f"no exit {edge.source_handle!r} (this node has {', '.join(exits) or 'none'})",
            )
            continue
        if source.terminal and source.type == "end":
            problem(edge.source, where, "an end node has no way out")
            continue
        out_edges[edge.source].append(i)
        in_edges[edge.target].append(i)
    compiled.out_edges, compiled.in_edges = dict(out_edges), dict(in_edges)

    starts = [n.id for n in nodes.values() if n.type == "start" and n.spec.parent_id is None]
    if len(starts) != 1:
        problem(None, "nodes", f"a workflow needs exactly one start node, it has {len(starts)}")
    else:
        compiled.start_id = starts[0]
    for node in nodes.values():
        if node.type == "start" and node.spec.parent_id is not None:
            problem(node.id, "parent_id", "a start node cannot be inside an iteration")
        if node.type in ("iteration-start",) and node.spec.parent_id is None:
            problem(node.id, "parent_id", "an iteration-start node must be inside an iteration")

    entries: dict[str | None, str] = {}
    if compiled.start_id:
        entries[None] = compiled.start_id
    for node in nodes.values():
        if isinstance(node, IterationNode):
            inner = nodes.get(node.data.start_node_id)
            if inner is None or inner.spec.parent_id != node.id or inner.type != "iteration-start":
                problem(
                    node.id,
                    "data.start_node_id",
                    f"{node.data.start_node_id!r} is not an iteration-start node inside it",
                )
            else:
                entries[node.id] = inner.id
            output_node = node.data.output_selector[0]
            if nodes.get(output_node) is None or nodes[output_node].spec.parent_id != node.id:
                problem(node.id, "data.output_selector", f"{output_node!r} is not a node inside it")

    ancestors: dict[str, set[str]] = {}
    for scope, members in compiled.scopes.items():
        entry = entries.get(scope)
        if entry is None:
            continue
        reachable = _reach(entry, lambda n: [spec.edges[i].target for i in out_edges.get(n, [])])
        for member in members:
            if member not in reachable:
                problem(member, None, "not connected to the start of its graph")
        cycle = _cycle(members, lambda n: [spec.edges[i].target for i in out_edges.get(n, [])])
        if cycle:
            problem(cycle[0], None, "cycle: " + " -> ".join(cycle))
            continue
        for member in members:
            ancestors[member] = _reach(
                member, lambda n: [spec.edges[i].source for i in in_edges.get(n, [])]
            ) - {member}
        if scope is None:
            terminal_type = "end" if spec.mode == "workflow" else "answer"
            if not any(nodes[m].type == terminal_type for m in reachable):
                problem(
                    compiled.start_id or None,
                    None,
                    f"no {terminal_type} node is reachable from the start ({spec.mode} mode)",
                )

    if not problems:
        _check_references(compiled, ancestors, problem)
    if problems:
        raise WorkflowValidationError(problems)
    return compiled


def _reach(start: str, step: Any) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _cycle(members: list[str], step: Any) -> list[str] | None:
    colour: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        colour[n] = 1
        path.append(n)
        for nxt in step(n):
            if colour.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in colour:
                found = visit(nxt)
                if found:
                    return found
        colour[n] = 2
        path.pop()
        return None

    for member in members:
        if member not in colour:
            found = visit(member)
            if found:
                return found
    return None


def _check_references(
    compiled: CompiledWorkflow, ancestors: dict[str, set[str]], problem: Any
) -> None:
    nodes, spec = compiled.nodes, compiled.spec

    def visible(node_id: str) -> set[str]:
        """Nodes whose outputs ``node_id`` may read: its upstream, and the upstream of
        each enclosing iteration (plus the iteration itself, for item/index)."""
        seen = set(ancestors.get(node_id, set()))
        parent = nodes[node_id].spec.parent_id
        while parent is not None:
            seen.add(parent)
            seen |= ancestors.get(parent, set())
            parent = nodes[parent].spec.parent_id
        return seen

    def type_of(selector: list[str], reader: str) -> VarType | None:
        owner = selector[0]
        node = nodes[owner]
        if isinstance(node, IterationNode) and owner != reader and _inside(nodes, reader, owner):
            if selector[1] == "index":
                return "integer"
            if selector[1] == "item":
                iterated = type_of(node.data.iterator_selector, owner)
                return element_type(iterated) if iterated else "any"
        return produced_types(node).get(selector[1])

    for node in nodes.values():
        allowed = visible(node.id)
        for ref in node.references():
            sel = ref.selector
            where = f"data.{ref.field}"
            shown = ".".join(sel)
            if len(sel) < 2:
                problem(node.id, where, f"selector {sel} needs a node and a name")
                continue
            if sel[0] == "sys":
                if sel[1] not in SYS_VARIABLES:
                    problem(node.id, where, f"unknown system variable sys.{sel[1]}")
                elif not compatible(SYS_VARIABLES[sel[1]], ref.accepts):
                    problem(node.id, where, f"sys.{sel[1]} is {SYS_VARIABLES[sel[1]]}, "
                            f"this needs {' or '.join(sorted(ref.accepts or []))}")  # fmt: skip
                continue
            if sel[0] == "env":
                if sel[1] not in spec.environment:
                    problem(node.id, where, f"no environment variable {sel[1]!r}")
                continue
            if sel[0] == "conversation":
                if sel[1] not in spec.conversation_variables:
                    problem(node.id, where, f"no conversation variable {sel[1]!r}")
                continue
            if sel[0] not in nodes:
                problem(node.id, where, f"{shown} refers to no node {sel[0]!r}")
                continue
            if sel[0] not in allowed:
                problem(node.id, where, f"{shown} is not upstream of this node")
                continue
            produced = type_of(sel, node.id)
            outputs = produced_types(nodes[sel[0]])
            inner = isinstance(nodes[sel[0]], IterationNode) and sel[1] in ("item", "index")
            if produced is None and outputs and not inner:
                problem(
                    node.id,
                    where,
                    f"{shown}: node {sel[0]} has no output {sel[1]!r} "
                    f"(it has {', '.join(sorted(outputs))})",
                )
                continue
            if produced and len(sel) == 2 and not compatible(produced, ref.accepts):
                problem(
                    node.id,
                    where,
                    f"{shown} is {produced}; this needs {' or '.join(sorted(ref.accepts or []))}",
                )


def _inside(nodes: dict[str, BaseNode[Any]], node_id: str, iteration_id: str) -> bool:
    parent = nodes[node_id].spec.parent_id
    while parent is not None:
        if parent == iteration_id:
            return True
        parent = nodes[parent].spec.parent_id
    return False
