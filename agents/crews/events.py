"""The events of a crew run, in the order a run yields them.

::

    crew_started
      crew_task_started             (per task, in order)
        crew_agent_step*            (agent started, each model call, agent finished)
        crew_tool_call*             (started, then finished or failed)
      crew_task_finished
    error?                          (agents.conversation.events.ErrorEvent, run_id set)
    crew_finished                   (always last: succeeded or failed)

Each event has a literal ``type``; ``conversation_id`` is empty for a run outside
chat, so the events fit the shared chat event model. Task and agent ids are the
spec's, never CrewAI's internal ones.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from agents.conversation.events import ErrorEvent


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
CREW_EVENT_ADAPTER: TypeAdapter[CrewEvent] = TypeAdapter(CrewEvent)
