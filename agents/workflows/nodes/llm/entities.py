"""Settings of the llm node."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.nodes.common import ModelConfig

#: Where the context value goes inside a prompt text.
CONTEXT_MARK = "{{#context#}}"


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"] = Field(description="Who says it.")
    text: str = Field(
        description="The message; may contain {{#node.field#}} references and {{#context#}}."
    )


class ContextConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Fill {{#context#}} from a variable.")
    variable_selector: list[str] | None = Field(
        default=None,
        min_length=2,
        description="The value rendered into {{#context#}}: a string, or a "
        "knowledge-retrieval result (its chunks' content, one after another).",
    )

    @model_validator(mode="after")
    def _selector_when_enabled(self) -> ContextConfig:
        if self.enabled and not self.variable_selector:
            raise ValueError("context.variable_selector is required when context is enabled")
        return self


class MemoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: int = Field(
        default=10,
        ge=1,
        le=100,
        description="How many of the conversation's last messages go before the last "
        "user message (chat mode).",
    )


class StructuredOutputConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: dict[str, Any] = Field(
        alias="schema",
        description="JSON Schema of the answer; its top level must be an object.",
    )

    @model_validator(mode="after")
    def _object_schema(self) -> StructuredOutputConfig:
        if self.schema_.get("type") != "object":
            raise ValueError("structured_output.schema must have type 'object'")
        return self


class LlmNodeData(BaseNodeData):
    model: ModelConfig = Field(default_factory=ModelConfig, description="The chat model.")
    prompt_template: list[PromptMessage] = Field(
        min_length=1, description="The messages sent, in order, after rendering."
    )
    context: ContextConfig = Field(
        default_factory=ContextConfig, description="What {{#context#}} renders as."
    )
    memory: MemoryConfig | None = Field(
        default=None, description="Include the conversation's recent messages (chat mode)."
    )
    structured_output: StructuredOutputConfig | None = Field(
        default=None,
        description="Ask for JSON matching a schema; the parsed object is output "
        "'structured_output' (the answer is then not streamed).",
    )
