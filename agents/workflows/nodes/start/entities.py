from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.variables import VarType


class StartVariable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variable: str = Field(description="Input name.", min_length=1, pattern=r"^[A-Za-z_][\w]*$")
    label: str = Field(default="", description="Shown in forms.")
    type: VarType = Field(default="string", description="The input's type.")
    required: bool = Field(default=True, description="Must a run give it?")
    default: Any = Field(default=None, description="Used when an optional input is missing.")
    options: list[str] = Field(default_factory=list, description="Allowed values (select).")
    max_length: int | None = Field(default=None, ge=1, description="Longest string accepted.")
    description: str = Field(default="", description="What it is (shown to models as a tool).")


class StartNodeData(BaseNodeData):
    variables: list[StartVariable] = Field(
        default_factory=list, description="The workflow's inputs."
    )
