"""Settings of the tool node."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.workflows.nodes.base import BaseNodeData


class ToolArgument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["constant", "variable", "mixed"] = Field(
        description="'constant': value as it is; 'variable': value is a selector "
        "[node_id, output, ...path]; 'mixed': value is a text with {{#node.field#}} references."
    )
    value: Any = Field(description="The literal, the selector, or the template.")

    @model_validator(mode="after")
    def _value_fits_type(self) -> ToolArgument:
        if self.type == "variable" and not (
            isinstance(self.value, list)
            and len(self.value) >= 2
            and all(isinstance(step, str) for step in self.value)
        ):
            raise ValueError("a 'variable' value is a selector: [node_id, output, ...path]")
        if self.type == "mixed" and not isinstance(self.value, str):
            raise ValueError("a 'mixed' value is a text template")
        return self


class ToolNodeData(BaseNodeData):
    tool_name: str = Field(min_length=1, description="Name of the tool, as registered.")
    tool_parameters: dict[str, ToolArgument] = Field(
        default_factory=dict, description="The tool's arguments by name."
    )
