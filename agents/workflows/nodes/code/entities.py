from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.nodes.common import VariableMapping
from agents.workflows.variables import VarType


class CodeOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: VarType = Field(description="The declared type of this output.")


class CodeNodeData(BaseNodeData):
    code_language: Literal["python3", "javascript"] = Field(
        default="python3", description="python3, or javascript (Node.js)."
    )
    code: str = Field(
        description="Defines main(...) returning a dict of the declared outputs.", min_length=1
    )
    variables: list[VariableMapping] = Field(
        default_factory=list, description="main's arguments, bound to upstream values."
    )
    outputs: dict[str, CodeOutput] = Field(
        default_factory=dict, description="What main returns: name -> type."
    )
