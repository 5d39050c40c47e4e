"""Settings of the parameter-extractor node."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.nodes.common import ModelConfig

ParameterType = Literal[
    "string",
    "number",
    "integer",
    "boolean",
    "array[string]",
    "array[number]",
    "array[object]",
    "object",
]


class ExtractedParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=64,
        description="Output name (letters, digits, '_'; not starting with '__').",
    )
    type: ParameterType = Field(description="The value's type; it is the output's type.")
    description: str = Field(default="", description="What to extract (shown to the model).")
    required: bool = Field(
        default=False, description="Extraction fails (__is_success 0) when it is missing."
    )
    options: list[str] = Field(
        default_factory=list,
        description="Allowed values (string and array[string] only); empty: any.",
    )

    @model_validator(mode="after")
    def _name_and_options(self) -> ExtractedParameter:
        if self.name.startswith("__"):
            raise ValueError("names starting with '__' are reserved for the node's own outputs")
        if self.options and self.type not in ("string", "array[string]"):
            raise ValueError(f"options apply to string parameters, not to {self.type}")
        return self


class ParameterExtractorNodeData(BaseNodeData):
    query: list[str] = Field(
        min_length=2, description="The text to extract from: [node_id, output, ...path]."
    )
    parameters: list[ExtractedParameter] = Field(
        min_length=1, description="The parameters to extract; names are unique."
    )
    instruction: str = Field(
        default="",
        description="Extra guidance for the model; may contain {{#node.field#}} references.",
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="The chat model.")

    @model_validator(mode="after")
    def _unique_names(self) -> ParameterExtractorNodeData:
        names = [p.name for p in self.parameters]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"parameter names must be unique: {', '.join(twice)} repeat")
        return self
