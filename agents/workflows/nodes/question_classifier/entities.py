"""Settings of the question-classifier node."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.workflows.graph import FAIL_HANDLE
from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.nodes.common import ModelConfig


class QuestionClass(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1, max_length=64, description="The class's handle: edges leave by it."
    )
    name: str = Field(
        min_length=1, description="What questions of this class are about (shown to the model)."
    )


class QuestionClassifierNodeData(BaseNodeData):
    query_variable_selector: list[str] = Field(
        min_length=2, description="The text to classify: [node_id, output, ...path]."
    )
    classes: list[QuestionClass] = Field(
        min_length=1, description="The classes to choose from; ids are unique."
    )
    instruction: str = Field(
        default="",
        description="Extra guidance for the model; may contain {{#node.field#}} references.",
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="The chat model.")

    @model_validator(mode="after")
    def _unique_ids(self) -> QuestionClassifierNodeData:
        ids = [c.id for c in self.classes]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"class ids must be unique: {', '.join(twice)} repeat")
        if FAIL_HANDLE in ids:
            raise ValueError(f"'{FAIL_HANDLE}' is reserved and cannot be a class id")
        return self
