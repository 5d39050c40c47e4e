from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.variables import VarType


class AggregatorGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_name: str = Field(description="Read as [node_id, group_name, 'output'].", min_length=1)
    output_type: VarType = Field(default="any", description="Type of every variable here.")
    variables: list[list[str]] = Field(description="Selectors, first with a value wins.")


class VariableAggregatorNodeData(BaseNodeData):
    output_type: VarType = Field(default="any", description="Type of the single group.")
    variables: list[list[str]] = Field(
        default_factory=list,
        description="One group: selectors from exclusive branches; the first with a value "
        "becomes 'output'.",
    )
    groups: list[AggregatorGroup] = Field(
        default_factory=list, description="Several groups instead (each its own output)."
    )
