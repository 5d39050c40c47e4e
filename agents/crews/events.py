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

from typing import Annotated

from pydantic import Field, TypeAdapter

from agents.conversation.events import (
    CrewAgentStep,
    CrewFinished,
    CrewStarted,
    CrewTaskFinished,
    CrewTaskStarted,
    CrewToolCall,
    ErrorEvent,
)

__all__ = [
    "CREW_EVENT_ADAPTER",
    "CrewAgentStep",
    "CrewEvent",
    "CrewFinished",
    "CrewStarted",
    "CrewTaskFinished",
    "CrewTaskStarted",
    "CrewToolCall",
]


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
