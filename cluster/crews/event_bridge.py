"""CrewAI's event bus, bridged to our crew events for one run.

CrewAI has one event bus per process; :func:`subscribe` registers a run's handlers
on it and each handler keeps only the events of that run's tasks and agents
(:class:`CrewIds`), turned into :mod:`agents.events` with the spec's ids.

The handlers are async: CrewAI runs async handlers on one loop of its own, in the
order the events were emitted, so the stream stays in order (sync handlers run on
a thread pool, in no fixed order). ``crewai_event_bus.flush()`` waits for them.

Mapping (CrewAI → ours): task started/completed/failed → crew_task_started /
crew_task_finished; agent execution started/completed/error → crew_agent_step
(agent_started / agent_finished / agent_failed); LLM call started/completed/failed
→ crew_agent_step (llm_started / llm_finished with tokens / llm_failed); tool usage
started/finished/error → crew_tool_call (started / finished, or failed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict
from uuid import UUID

from crewai.events import crewai_event_bus
from crewai.events.base_events import BaseEvent
from crewai.events.types.agent_events import (
    AgentExecutionCompletedEvent,
    AgentExecutionErrorEvent,
    AgentExecutionStartedEvent,
)
from crewai.events.types.event_bus_types import AsyncHandler
from crewai.events.types.llm_events import (
    LLMCallCompletedEvent,
    LLMCallFailedEvent,
    LLMCallStartedEvent,
)
from crewai.events.types.task_events import (
    TaskCompletedEvent,
    TaskFailedEvent,
    TaskStartedEvent,
)
from crewai.events.types.tool_usage_events import (
    ToolUsageErrorEvent,
    ToolUsageFinishedEvent,
    ToolUsageStartedEvent,
)

from agents.events import (
    CrewAgentStep,
    CrewEvent,
    CrewTaskFinished,
    CrewTaskStarted,
    CrewToolCall,
)

#: An event type and the handler registered for it.
Handler = tuple[type[BaseEvent], AsyncHandler]
#: A CrewAI task's or agent's id: a UUID on the object, a string on its events.
CrewAiId = UUID | str | None


class CrewRunIds(TypedDict):
    """The ids every event of a run carries."""

    conversation_id: str
    run_id: str
    crew_id: str


#: Longest text carried by one event (prompts, replies, tool results).
TEXT_LIMIT = 4000
_EVENT_TYPES: tuple[type[BaseEvent], ...] = (
    TaskStartedEvent,
    TaskCompletedEvent,
    TaskFailedEvent,
    AgentExecutionStartedEvent,
    AgentExecutionCompletedEvent,
    AgentExecutionErrorEvent,
    LLMCallStartedEvent,
    LLMCallCompletedEvent,
    LLMCallFailedEvent,
    ToolUsageStartedEvent,
    ToolUsageFinishedEvent,
    ToolUsageErrorEvent,
)


def _cut(text: object) -> str:
    """Any value CrewAI reports (its events type many as ``Any``) as bounded text."""
    if isinstance(text, str):
        value = text
    else:
        try:
            value = json.dumps(text, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            value = str(text)
    return value if len(value) <= TEXT_LIMIT else value[:TEXT_LIMIT] + "…"


@dataclass
class CrewIds:
    """CrewAI's ids of this run's tasks and agents, mapped to the spec's."""

    tasks: dict[str, str] = field(default_factory=dict)
    agents: dict[str, str] = field(default_factory=dict)
    task_agent: dict[str, str] = field(default_factory=dict)

    def task(self, crewai_id: CrewAiId) -> str | None:
        return self.tasks.get(str(crewai_id)) if crewai_id is not None else None

    def agent(self, crewai_id: CrewAiId) -> str | None:
        return self.agents.get(str(crewai_id)) if crewai_id is not None else None

    def owns(self, task_id: CrewAiId, agent_id: CrewAiId) -> bool:
        return self.task(task_id) is not None or self.agent(agent_id) is not None


def subscribe(ids: CrewIds, base: CrewRunIds, emit: Callable[[CrewEvent], None]) -> list[Handler]:
    """Register this run's handlers on CrewAI's event bus; returns them for ``off``."""
    task_started_at: dict[str, float] = {}

    async def on_event(source: object, event: BaseEvent) -> None:
        converted = _convert(event, ids, base, task_started_at)
        if converted is not None:
            emit(converted)

    registered: list[Handler] = []
    for event_type in _EVENT_TYPES:
        crewai_event_bus.register_handler(event_type, on_event)
        registered.append((event_type, on_event))
    return registered


def _convert(
    event: BaseEvent, ids: CrewIds, base: CrewRunIds, task_started_at: dict[str, float]
) -> CrewEvent | None:
    """One CrewAI event as ours, or None when it is another run's or not of interest."""
    if isinstance(event, TaskStartedEvent | TaskCompletedEvent | TaskFailedEvent):
        task = getattr(event, "task", None)
        task_id = ids.task(getattr(task, "id", None) or event.task_id)
        if task_id is None:
            return None
        agent_id = ids.agent(getattr(getattr(task, "agent", None), "id", None)) or (
            ids.task_agent.get(task_id)
        )
        if isinstance(event, TaskStartedEvent):
            task_started_at[task_id] = time.perf_counter()
            return CrewTaskStarted(
                **base,
                task_id=task_id,
                agent_id=agent_id,
                description=_cut(getattr(task, "description", "") or ""),
                context=_cut(event.context or ""),
            )
        elapsed = (time.perf_counter() - task_started_at.get(task_id, time.perf_counter())) * 1000
        if isinstance(event, TaskCompletedEvent):
            return CrewTaskFinished(
                **base,
                task_id=task_id,
                agent_id=agent_id,
                status="succeeded",
                output=str(event.output.raw or ""),
                elapsed_ms=elapsed,
            )
        return CrewTaskFinished(
            **base,
            task_id=task_id,
            agent_id=agent_id,
            status="failed",
            error=_cut(event.error),
            elapsed_ms=elapsed,
        )
    if isinstance(
        event, AgentExecutionStartedEvent | AgentExecutionCompletedEvent | AgentExecutionErrorEvent
    ):
        agent, task = event.agent, event.task
        task_crewai_id = getattr(task, "id", None)
        if not ids.owns(task_crewai_id, agent.id):
            return None
        common: dict[str, Any] = {
            **base,
            "task_id": ids.task(task_crewai_id),
            "agent_id": ids.agent(agent.id),
            "agent_role": str(agent.role),
        }
        if isinstance(event, AgentExecutionStartedEvent):
            return CrewAgentStep(**common, step="agent_started", text=_cut(event.task_prompt))
        if isinstance(event, AgentExecutionCompletedEvent):
            return CrewAgentStep(**common, step="agent_finished", text=_cut(event.output))
        return CrewAgentStep(**common, step="agent_failed", text=_cut(event.error))
    if isinstance(event, LLMCallStartedEvent | LLMCallCompletedEvent | LLMCallFailedEvent):
        if not ids.owns(event.task_id, event.agent_id):
            return None
        common = {
            **base,
            "task_id": ids.task(event.task_id),
            "agent_id": ids.agent(event.agent_id),
            "agent_role": event.agent_role or "",
            "model": event.model,
        }
        if isinstance(event, LLMCallStartedEvent):
            return CrewAgentStep(**common, step="llm_started")
        if isinstance(event, LLMCallCompletedEvent):
            usage = event.usage or {}
            return CrewAgentStep(
                **common,
                step="llm_finished",
                text=_cut(event.response if event.response is not None else ""),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        return CrewAgentStep(**common, step="llm_failed", text=_cut(event.error))
    if isinstance(event, ToolUsageStartedEvent | ToolUsageFinishedEvent | ToolUsageErrorEvent):
        if not ids.owns(event.task_id, event.agent_id):
            return None
        common = {
            **base,
            "task_id": ids.task(event.task_id),
            "agent_id": ids.agent(event.agent_id),
            "tool": event.tool_name,
            "arguments": event.tool_args,
        }
        if isinstance(event, ToolUsageStartedEvent):
            return CrewToolCall(**common, status="started")
        if isinstance(event, ToolUsageErrorEvent):
            return CrewToolCall(**common, status="failed", error=_cut(event.error))
        elapsed = (event.finished_at - event.started_at).total_seconds() * 1000
        if event.failure is not None:
            return CrewToolCall(
                **common,
                status="failed",
                error=_cut(getattr(event.failure, "message", event.failure)),
                output=_cut(event.output),
                elapsed_ms=elapsed,
            )
        return CrewToolCall(
            **common, status="finished", output=_cut(event.output), elapsed_ms=elapsed
        )
    return None


def unsubscribe(handlers: list[Handler]) -> None:
    for event_type, handler in handlers:
        crewai_event_bus.off(event_type, handler)
