from __future__ import annotations

from typing import Literal

from pydantic import Field

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.variables import VarType


class IterationNodeData(BaseNodeData):
    iterator_selector: list[str] = Field(description="The array to go over.", min_length=2)
    output_selector: list[str] = Field(
        description="Which value of an inner node is collected from each step.", min_length=2
    )
    output_type: VarType = Field(default="array[any]", description="Type of the collected array.")
    start_node_id: str = Field(description="The inner 'iteration-start' node.")
    is_parallel: bool = Field(default=False, description="Run steps concurrently.")
    parallel_nums: int = Field(default=10, ge=1, le=50, description="At most this many at once.")
    error_handle_mode: Literal["terminated", "continue-on-error", "remove-abnormal-output"] = Field(
        default="terminated",
        description="A failing step fails the node, gives null, or is left out.",
    )
    max_items: int = Field(default=1000, ge=1, le=100_000, description="Longest array accepted.")


class IterationStartNodeData(BaseNodeData):
    pass
