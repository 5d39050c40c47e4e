"""The engine contract: OpenAI-shaped request and response models and the protocol.

Every model engine (llama.cpp on CPU, SGLang on GPU, a remote OpenAI-compatible
endpoint, the scripted fake) implements :class:`EngineProtocol`. The models here
are the ones that cross Ray boundaries, so they are plain pydantic data.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Wire(BaseModel):
    """Inbound OpenAI wire models ignore fields we do not know, as OpenAI-compatible servers do."""

    model_config = ConfigDict(extra="ignore")


class FunctionCall(_Wire):
    name: str = Field(description="Name of the function the model calls.")
    arguments: str = Field(description="The call's arguments as a JSON object encoded as a string.")


class ToolCall(_Wire):
    id: str = Field(description="Id that the tool's result message refers back to.")
    type: Literal["function"] = Field(default="function", description="Always 'function'.")
    function: FunctionCall = Field(description="The function called and its arguments.")


class ContentPart(_Wire):
    type: Literal["text"] = Field(description="Only text parts are supported.")
    text: str = Field(description="The text of this part.")


class ChatMessage(_Wire):
    role: Literal["system", "developer", "user", "assistant", "tool"] = Field(
        description="Who wrote the message."
    )
    content: str | list[ContentPart] | None = Field(
        default=None, description="Text of the message, or a list of text parts."
    )
    name: str | None = Field(default=None, description="Optional author name.")
    tool_calls: list[ToolCall] | None = Field(
        default=None, description="Tool calls made by the assistant in this message."
    )
    tool_call_id: str | None = Field(
        default=None, description="For role 'tool': the id of the call this result answers."
    )

    def text(self) -> str:
        """The message's content as one string."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class FunctionDefinition(_Wire):
    name: str = Field(description="Function name the model uses to call it.", min_length=1)
    description: str | None = Field(default=None, description="What the function does.")
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the function's arguments.",
    )


class ToolDefinition(_Wire):
    type: Literal["function"] = Field(default="function", description="Always 'function'.")
    function: FunctionDefinition = Field(description="The function offered to the model.")


class NamedToolChoiceFunction(_Wire):
    name: str = Field(description="Name of the tool the model must call.")


class NamedToolChoice(_Wire):
    type: Literal["function"] = Field(default="function", description="Always 'function'.")
    function: NamedToolChoiceFunction = Field(description="The tool the model must call.")


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


class JsonSchemaFormat(_Wire):
    name: str = Field(default="response", description="Name of the schema.")
    schema_: dict[str, Any] = Field(
        alias="schema", description="JSON Schema the answer must match."
    )
    strict: bool | None = Field(default=None, description="Accepted for compatibility.")

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ResponseFormat(_Wire):
    type: Literal["text", "json_object", "json_schema"] = Field(
        description="'text', 'json_object' (any JSON object) or 'json_schema'."
    )
    json_schema: JsonSchemaFormat | None = Field(
        default=None, description="Required when type is 'json_schema'."
    )

    @model_validator(mode="after")
    def _schema_present(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format.json_schema is required when type is 'json_schema'")
        return self

    def output_schema(self) -> dict[str, Any] | None:
        """The JSON Schema the output must match, or None for free text."""
        if self.type == "json_schema" and self.json_schema is not None:
            return self.json_schema.schema_
        if self.type == "json_object":
            return {"type": "object"}
        return None


class StreamOptions(_Wire):
    include_usage: bool = Field(default=False, description="Send a final chunk with usage.")


class ChatRequest(_Wire):
    """An OpenAI chat-completions request (the subset Chorus serves)."""

    model: str = Field(description="Id of the model, as listed by GET /v1/models.", min_length=1)
    messages: list[ChatMessage] = Field(description="The conversation so far.", min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature.")
    top_p: float | None = Field(default=None, gt=0, le=1, description="Nucleus sampling mass.")
    max_tokens: int | None = Field(default=None, ge=1, description="Most tokens to generate.")
    max_completion_tokens: int | None = Field(
        default=None, ge=1, description="Newer name for max_tokens; wins when both are given."
    )
    stop: str | list[str] | None = Field(default=None, description="Sequences that end the answer.")
    seed: int | None = Field(default=None, description="Seed for reproducible sampling.")
    presence_penalty: float | None = Field(
        default=None, ge=-2, le=2, description="Presence penalty."
    )
    frequency_penalty: float | None = Field(
        default=None, ge=-2, le=2, description="Frequency penalty."
    )
    n: int = Field(default=1, ge=1, le=1, description="Only one choice is supported.")
    stream: bool = Field(default=False, description="Stream the answer as server-sent events.")
    stream_options: StreamOptions | None = Field(default=None, description="Streaming options.")
    tools: list[ToolDefinition] | None = Field(
        default=None, description="Tools the model may call."
    )
    tool_choice: ToolChoice | None = Field(default=None, description="How the model uses tools.")
    response_format: ResponseFormat | None = Field(default=None, description="Output format.")
    user: str | None = Field(default=None, description="End-user id, for logs.")

    @model_validator(mode="after")
    def _tool_choice_names_a_tool(self) -> ChatRequest:
        if isinstance(self.tool_choice, NamedToolChoice):
            names = {tool.function.name for tool in self.tools or []}
            if self.tool_choice.function.name not in names:
                raise ValueError(
                    f"tool_choice names '{self.tool_choice.function.name}', which is not in tools"
                )
        if self.tool_choice == "required" and not self.tools:
            raise ValueError("tool_choice 'required' needs at least one tool in tools")
        return self

    def completion_limit(self) -> int | None:
        """The most tokens to generate, whichever of the two fields was given."""
        return self.max_completion_tokens or self.max_tokens

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


class Usage(BaseModel):
    prompt_tokens: int = Field(default=0, description="Tokens in the prompt.")
    completion_tokens: int = Field(default=0, description="Tokens generated.")
    total_tokens: int = Field(default=0, description="Sum of both.")


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason | None = "stop"


class ChatCompletion(BaseModel):
    id: str = Field(default_factory=lambda: new_completion_id())
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)


class ToolCallDelta(BaseModel):
    index: int = 0
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionCall | None = None


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "chorus"
    kind: Literal["chat", "embedding"] = "chat"
    engine: str = Field(default="", description="Engine kind serving it (llamacpp, sglang, ...).")
    context_window: int | None = None


def new_completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def new_tool_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


@runtime_checkable
class EngineProtocol(Protocol):
    """What every chat model engine does.

    ``chat_stream`` yields :class:`ChatCompletionChunk` objects: first a chunk with
    the assistant role, then content or tool-call deltas, then one chunk with a
    ``finish_reason``, then (always) one chunk with ``usage`` and no choices. On
    error it raises a :class:`agents.errors.ChorusError` — before the first chunk
    when the request itself is refused, or mid-stream if the engine fails.
    """

    async def chat(self, request: ChatRequest) -> ChatCompletion: ...

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]: ...

    async def count_tokens(self, messages: list[ChatMessage]) -> int: ...

    def model_card(self) -> ModelCard: ...
