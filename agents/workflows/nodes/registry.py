"""The one registry of node types: filled once (built-ins, then the
``chorus.workflow_nodes`` entry points), read-only afterwards."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

import structlog

from agents.workflows.nodes.base import BaseNode

log = structlog.get_logger(__name__)
ENTRY_POINT_GROUP = "chorus.workflow_nodes"
BUILT_IN = (
    "start",
    "end",
    "answer",
    "llm",
    "knowledge_retrieval",
    "code",
    "if_else",
    "variable_aggregator",
    "http_request",
    "tool",
    "template_transform",
    "question_classifier",
    "parameter_extractor",
    "iteration",
)


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[BaseNode[Any]]] = {}
        self._frozen = False

    def register(self, node_class: type[BaseNode[Any]]) -> None:
        if self._frozen:
            raise RuntimeError("the node registry is read-only after start-up")
        if node_class.type in self._types:
            raise ValueError(f"node type {node_class.type!r} is registered twice")
        self._types[node_class.type] = node_class

    def freeze(self) -> NodeRegistry:
        self._frozen = True
        return self

    def get(self, node_type: str) -> type[BaseNode[Any]] | None:
        return self._types.get(node_type)

    def types(self) -> list[str]:
        return sorted(self._types)


def add_built_ins(registry: NodeRegistry) -> NodeRegistry:
    """Register the built-in node types (tests build their own registries with it)."""
    for name in BUILT_IN:
        module = import_module(f"agents.workflows.nodes.{name}.node")
        for cls in getattr(module, "NODES", ()):
            registry.register(cls)
    return registry


_DEFAULT: NodeRegistry | None = None


def default_registry() -> NodeRegistry:
    """Built-in node types plus those third parties publish as entry points."""
    global _DEFAULT
    if _DEFAULT is None:
        registry = NodeRegistry()
        add_built_ins(registry)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                registry.register(ep.load())
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the server
                log.warning("workflow_node_plugin_failed", entry_point=ep.name, error=str(exc))
        _DEFAULT = registry.freeze()
    return _DEFAULT
