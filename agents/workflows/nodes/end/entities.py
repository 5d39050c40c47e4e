from __future__ import annotations

from pydantic import Field

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.nodes.common import VariableMapping


class EndNodeData(BaseNodeData):
    outputs: list[VariableMapping] = Field(
        default_factory=list, description="The workflow's outputs: name <- value."
    )
