"""The one registry of node types, keyed by ``(type, version)``: filled once (the
built-ins, then the ``chorus.workflow_nodes`` entry points), read-only afterwards.

A node class carries its own key (``type``, ``version``) and, when it imports from
Dify, its :class:`~agents.workflows.dify.mapping.DifyMapping`: the registry answers
both "which class runs this node" and "which of ours imports this Dify node". Nothing
registers itself at import.
"""

from __future__ import annotations

from typing import Any

from agents.registry import Registry
from agents.workflows.dify.mapping import DifyMapper
from agents.workflows.nodes.answer.node import AnswerNode
from agents.workflows.nodes.base import DEFAULT_VERSION, BaseNode
from agents.workflows.nodes.code.node import CodeNode
from agents.workflows.nodes.end.node import EndNode
from agents.workflows.nodes.http_request.node import HttpRequestNode
from agents.workflows.nodes.if_else.node import IfElseNode
from agents.workflows.nodes.iteration.node import IterationNode, IterationStartNode
from agents.workflows.nodes.knowledge_retrieval.node import KnowledgeRetrievalNode
from agents.workflows.nodes.llm.node import LlmNode
from agents.workflows.nodes.parameter_extractor.node import ParameterExtractorNode
from agents.workflows.nodes.question_classifier.node import QuestionClassifierNode
from agents.workflows.nodes.start.node import StartNode
from agents.workflows.nodes.template_transform.node import TemplateTransformNode
from agents.workflows.nodes.tool.node import ToolNode
from agents.workflows.nodes.variable_aggregator.node import VariableAggregatorNode

ENTRY_POINT_GROUP = "chorus.workflow_nodes"
NodeClass = type[BaseNode[Any]]
NodeKey = tuple[str, str]
BUILT_IN: tuple[NodeClass, ...] = (
    StartNode,
    EndNode,
    AnswerNode,
    LlmNode,
    KnowledgeRetrievalNode,
    CodeNode,
    IfElseNode,
    VariableAggregatorNode,
    HttpRequestNode,
    ToolNode,
    TemplateTransformNode,
    QuestionClassifierNode,
    ParameterExtractorNode,
    IterationNode,
    IterationStartNode,
)


def node_key(node_class: NodeClass) -> NodeKey:
    return node_class.type, node_class.version


class NodeRegistry(Registry[NodeKey, NodeClass]):
    def __init__(self) -> None:
        super().__init__("node type", ENTRY_POINT_GROUP)

    def add(self, node_class: NodeClass) -> None:
        """Register ``node_class`` under its own ``(type, version)``."""
        self.register(node_key(node_class), node_class)

    def find_node(self, node_type: str, version: str = DEFAULT_VERSION) -> NodeClass | None:
        """The class that runs nodes of ``node_type`` at ``version``, None if unknown."""
        return self.find((node_type, version))

    def dify_mapper(self, dify_type: str) -> tuple[str, DifyMapper] | None:
        """Our node type for the Dify node type ``dify_type`` and the mapper of its data
        (from the first registered class that imports it: a built-in before a plugin),
        None when no node type imports it."""
        for _, node_class in self.items():
            if node_class.dify is not None and dify_type in node_class.dify.types:
                return node_class.type, node_class.dify.mapper
        return None


def add_built_ins(registry: NodeRegistry) -> NodeRegistry:
    """Register the built-in node types (tests build their own registries with it)."""
    for node_class in BUILT_IN:
        registry.add(node_class)
    return registry


def _plugin(loaded: object) -> list[tuple[NodeKey, NodeClass]]:
    """An entry point's node class under its own key (anything else is refused)."""
    if not (isinstance(loaded, type) and issubclass(loaded, BaseNode)):
        raise TypeError(f"{loaded!r} is not a node class (a BaseNode subclass)")
    return [(node_key(loaded), loaded)]


_DEFAULT: NodeRegistry | None = None


def default_registry() -> NodeRegistry:
    """Built-in node types plus those third parties publish as entry points."""
    global _DEFAULT
    if _DEFAULT is None:
        registry = add_built_ins(NodeRegistry())
        registry.load_entry_points(_plugin)
        registry.freeze()
        _DEFAULT = registry
    return _DEFAULT
