"""The workflow graph: nodes with typed data, edges with source handles.

A workflow is data (:class:`WorkflowSpec`); node ``data`` is validated against the
node type's model from the registry (:mod:`agents.workflows.nodes.registry`) when the
graph is compiled, so errors name the node and the field. Edges leave a node through
a *handle*: ``source`` for the normal path, a case id for an if/else branch or a class
id for a question classifier, ``fail-branch`` for a node whose error strategy is
``fail_branch``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SOURCE_HANDLE = "source"
FAIL_HANDLE = "fail-branch"


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, description="Optional edge id.")
    source: str = Field(description="Id of the node the edge leaves.")
    target: str = Field(description="Id of the node the edge enters.")
    source_handle: str = Field(
        default=SOURCE_HANDLE,
        description="Which exit of the source: 'source', a branch/class id, or 'fail-branch'.",
    )


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Unique node id (letters, digits, '_' or '-').", min_length=1)
    type: str = Field(description="Node type, e.g. 'llm', 'code', 'if-else'.")
    title: str = Field(default="", description="Shown in run records and events.")
    data: dict[str, Any] = Field(
        default_factory=dict, description="The node type's settings (see its data model)."
    )
    parent_id: str | None = Field(
        default=None, description="For nodes inside an iteration: the iteration node's id."
    )


class WorkflowSpec(BaseModel):
    """A workflow as stored, run and exported."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="workflow", description="Display name.", min_length=1, max_length=200)
    description: str = Field(default="", description="What the workflow does (shown to models).")
    mode: Literal["workflow", "chat"] = Field(
        default="workflow",
        description="'workflow' ends in end nodes with outputs; 'chat' in answer nodes.",
    )
    nodes: list[NodeSpec] = Field(description="The nodes.", min_length=1)
    edges: list[Edge] = Field(default_factory=list, description="The edges.")
    environment: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Environment variables, read as {{#env.NAME#}} (never secrets: see docs).",
    )
    conversation_variables: dict[str, Any] = Field(
        default_factory=dict, description="Initial conversation variables (chat mode)."
    )
