"""The one typed event model of every stream (websocket, SSE, OpenAI adapter, jobs):
chat turns, the planner's tool calls, knowledge citations, workflow runs, crew runs.

Each event is a pydantic model with a literal ``type``; :data:`Event` is their
union and :data:`EVENT_ADAPTER` parses any of them. :data:`CrewEvent` is the part of
the union a crew run yields, in this order::

    crew_started
      crew_task_started             (per task, in order)
        crew_agent_step*            (agent started, each model call, agent finished)
        crew_tool_call*             (started, then finished or failed)
      crew_task_finished
    error?                          (ErrorEvent, run_id set)
    crew_finished                   (always last: succeeded or failed)

A crew event's ``conversation_id`` is empty for a run outside chat; its task and agent
ids are the spec's, never CrewAI's internal ones.
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


# -- crew runs (the order is in the module's docstring) ----------------------------


class _CrewEvent(BaseModel):
    conversation_id: str = Field(default="", description="The conversation, for a run in chat.")
    run_id: str = Field(description="The crew run.")
    crew_id: str = Field(description="The crew.")


class CrewStarted(_CrewEvent):
    type: Literal["crew_started"] = "crew_started"
    crew_name: str = Field(description="The crew's name.")
    process: Literal["sequential", "hierarchical"] = Field(description="How tasks are run.")
    model: str = Field(description="The model the agents run on.")
    inputs: dict[str, str] = Field(default_factory=dict, description="The run's inputs.")
    tasks: list[str] = Field(default_factory=list, description="Task ids, in spec order.")


class CrewTaskStarted(_CrewEvent):
    type: Literal["crew_task_started"] = "crew_task_started"
    task_id: str = Field(description="The task (spec id).")
    agent_id: str | None = Field(default=None, description="The agent doing it (spec id).")
    description: str = Field(default="", description="The task, inputs filled in.")
    context: str = Field(
        default="", description="The earlier tasks' outputs given to this task as context."
    )


class CrewAgentStep(_CrewEvent):
    """One step of an agent at work: it started, called the model, got an answer, finished."""

    type: Literal["crew_agent_step"] = "crew_agent_step"
    task_id: str | None = Field(default=None, description="The task (spec id).")
    agent_id: str | None = Field(
        default=None, description="The agent (spec id); None for a hierarchical crew's manager."
    )
    agent_role: str = Field(default="", description="The agent's role.")
    step: Literal[
        "agent_started",
        "llm_started",
        "llm_finished",
        "llm_failed",
        "agent_finished",
        "agent_failed",
    ] = Field(description="What happened.")
    text: str = Field(
        default="",
        description=(
            "agent_started: the task prompt; llm_finished: the model's reply; agent_finished: "
            "the agent's answer; *_failed: the error. Cut to 4000 characters."
        ),
    )
    model: str | None = Field(default=None, description="The model called (llm_* steps).")
    prompt_tokens: int = Field(default=0, description="llm_finished: prompt tokens, if reported.")
    completion_tokens: int = Field(
        default=0, description="llm_finished: completion tokens, if reported."
    )


class CrewToolCall(_CrewEvent):
    type: Literal["crew_tool_call"] = "crew_tool_call"
    task_id: str | None = Field(default=None, description="The task (spec id).")
    agent_id: str | None = Field(default=None, description="The calling agent (spec id).")
    tool: str = Field(description="The tool's name.")
    status: Literal["started", "finished", "failed"] = Field(description="Where the call is.")
    arguments: dict[str, Any] | str = Field(
        default_factory=dict, description="The arguments the agent gave."
    )
    output: str | None = Field(default=None, description="finished: the result (cut to 4000).")
    error: str | None = Field(default=None, description="failed: what went wrong.")
    elapsed_ms: float = Field(default=0.0, description="finished: how long the call took.")


class CrewTaskFinished(_CrewEvent):
    type: Literal["crew_task_finished"] = "crew_task_finished"
    task_id: str = Field(description="The task (spec id).")
    agent_id: str | None = Field(default=None, description="The agent that did it (spec id).")
    status: Literal["succeeded", "failed"] = Field(description="How the task ended.")
    output: str = Field(default="", description="The task's output.")
    error: str | None = Field(default=None, description="failed: what went wrong.")
    elapsed_ms: float = Field(default=0.0, description="From the task's start to its end.")


class CrewFinished(_CrewEvent):
    type: Literal["crew_finished"] = "crew_finished"
    status: Literal["succeeded", "failed"] = Field(description="How the run ended.")
    outputs: dict[str, str] = Field(
        default_factory=dict, description="Each finished task's output, by task id."
    )
    final_output: str = Field(default="", description="The crew's answer (the last task's).")
    error: str | None = Field(default=None, description="failed: what went wrong.")
    error_code: str | None = Field(default=None, description="failed: the error's code.")
    elapsed_ms: float = Field(default=0.0, description="The whole run.")
    total_tokens: int = Field(default=0, description="Tokens used by every model call.")


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
    | WorkflowFinished
    | CrewStarted
    | CrewTaskStarted
    | CrewAgentStep
    | CrewToolCall
    | CrewTaskFinished
    | CrewFinished,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
#: What a crew run yields (in the order of the module's docstring).
CrewEvent = Annotated[
    CrewStarted
    | CrewTaskStarted
    | CrewAgentStep
    | CrewToolCall
    | CrewTaskFinished
    | CrewFinished
    | ErrorEvent,
    Field(discriminator="type"),
]
