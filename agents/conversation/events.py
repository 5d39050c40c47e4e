"""The one typed event model of every chat stream (websocket, SSE, OpenAI adapter, jobs).

Each event is a pydantic model with a literal ``type``; :data:`Event` is their
union and :data:`EVENT_ADAPTER` parses any of them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class _Event(BaseModel):
    conversation_id: str = Field(description="The conversation the event belongs to.")


class ConversationStarted(_Event):
    type: Literal["conversation_started"] = "conversation_started"
    app_id: str
    opening_statement: str = ""
    suggested_questions: list[str] = Field(default_factory=list)
    resumed: bool = Field(default=False, description="True when an existing one was resumed.")


class MessageStarted(_Event):
    type: Literal["message_started"] = "message_started"
    turn_id: str
    message_id: str
    user_message_id: str


class Delta(_Event):
    type: Literal["delta"] = "delta"
    message_id: str
    content: str
    run_id: str | None = Field(default=None, description="The workflow run, in a workflow stream.")
    node_id: str | None = Field(default=None, description="The LLM or answer node it came from.")


class MessageReplaced(_Event):
    type: Literal["message_replaced"] = "message_replaced"
    message_id: str
    content: str = Field(description="The whole message as it now reads.")
    reason: str = Field(description="Why, e.g. 'input_blocked'.")


class Suggestions(_Event):
    type: Literal["suggestions"] = "suggestions"
    message_id: str
    questions: list[str] = Field(max_length=5)


class UsageEvent(_Event):
    type: Literal["usage"] = "usage"
    message_id: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    time_to_first_token_ms: float | None = None
    model: str


class Citation(_Event):
    """A knowledge chunk given to the model for this answer (sent before the answer)."""

    type: Literal["citation"] = "citation"
    message_id: str
    kb_id: str
    document_id: str
    document_title: str = ""
    chunk_id: str
    chunk_index: int
    score: float
    content: str = Field(description="The chunk's text.")


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str
    message_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    run_id: str | None = Field(default=None, description="The workflow run, in a workflow stream.")
    node_id: str | None = Field(default=None, description="The node that failed, if one did.")


class ToolCallEvent(_Event):
    """The model asked for a tool (sent before the tool runs)."""

    type: Literal["tool_call"] = "tool_call"
    message_id: str
    call_id: str = Field(description="Pairs the call with its tool_result.")
    name: str = Field(description="The tool (or workflow skill) called.")
    arguments: Any = Field(description="The arguments as the model sent them.")
    step: int = Field(description="The planner step (1-based).")


class ToolResultEvent(_Event):
    """A tool call's outcome, as handed back to the model."""

    type: Literal["tool_result"] = "tool_result"
    message_id: str
    call_id: str
    name: str
    ok: bool = Field(description="False: the error below went back to the model.")
    result: Any = Field(default=None, description="What the tool returned.")
    error: dict[str, Any] | None = Field(default=None, description="{code, message} on failure.")
    elapsed_ms: float = 0.0
    step: int


class _RunEvent(_Event):
    """A workflow run's event; ``conversation_id`` is empty for a run outside chat."""

    run_id: str = Field(description="The workflow run.")
    workflow_id: str = Field(description="The workflow.")


class WorkflowStarted(_RunEvent):
    type: Literal["workflow_started"] = "workflow_started"
    inputs: dict[str, Any] = Field(default_factory=dict, description="The run's inputs.")


class NodeStarted(_RunEvent):
    type: Literal["node_started"] = "node_started"
    node_id: str
    node_type: str
    title: str = ""
    iteration_index: int | None = Field(
        default=None, description="Inside an iteration: which item (0-based)."
    )


class NodeFinished(_RunEvent):
    type: Literal["node_finished"] = "node_finished"
    node_id: str
    node_type: str
    title: str = ""
    status: Literal["succeeded", "failed", "exception", "skipped"] = Field(
        description="exception: failed, handled by the node's error strategy."
    )
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    elapsed_ms: float = 0.0
    tokens: int = 0
    attempts: int = 1
    iteration_index: int | None = None


class WorkflowFinished(_RunEvent):
    type: Literal["workflow_finished"] = "workflow_finished"
    status: Literal["succeeded", "failed", "stopped"]
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    elapsed_ms: float = 0.0
    total_tokens: int = 0
    node_runs: int = Field(default=0, description="Node executions, iterations included.")


class MessageEnd(_Event):
    type: Literal["message_end"] = "message_end"
    message_id: str
    status: Literal["complete", "stopped", "failed", "blocked"]


Event = Annotated[
    ConversationStarted
    | MessageStarted
    | Delta
    | MessageReplaced
    | Citation
    | Suggestions
    | UsageEvent
    | ErrorEvent
    | MessageEnd
    | ToolCallEvent
    | ToolResultEvent
    | WorkflowStarted
    | NodeStarted
    | NodeFinished
    | WorkflowFinished,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
