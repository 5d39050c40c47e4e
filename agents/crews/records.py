"""Stored crews and their runs (one record per run, with a line per task), kept by the
generic repository (agents.repository) as the kind :data:`CREW`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from agents import error_codes
from agents.crews.spec import CrewSpec
from agents.ids import new_id, utcnow
from agents.repository import RecordKind

CREW = RecordKind("crew", error_codes.CREW_NOT_FOUND, "crew_id")


class CrewRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("crew"), description="The crew's id.")
    workspace_id: str = Field(description="The workspace that owns the crew.")
    spec: CrewSpec = Field(description="The crew itself.")
    created_at: datetime = Field(default_factory=utcnow, description="When it was created.")
    updated_at: datetime = Field(default_factory=utcnow, description="When it last changed.")


class CrewTaskRunRecord(BaseModel):
    task_id: str = Field(description="The task (spec id).")
    agent_id: str | None = Field(default=None, description="The agent that did it (spec id).")
    status: Literal["succeeded", "failed"] = Field(description="How the task ended.")
    output: str = Field(default="", description="The task's output.")
    error: str | None = Field(default=None, description="failed: what went wrong.")
    elapsed_ms: float = Field(default=0.0, description="How long the task took.")


class CrewRunRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("crun"), description="The run's id.")
    crew_id: str = Field(description="The crew that ran.")
    workspace_id: str = Field(description="The workspace of the crew.")
    status: Literal["running", "succeeded", "failed"] = Field(
        default="running", description="Where the run is."
    )
    model: str = Field(default="", description="The model the agents ran on.")
    inputs: dict[str, str] = Field(default_factory=dict, description="The run's inputs.")
    outputs: dict[str, str] = Field(
        default_factory=dict, description="Each finished task's output, by task id."
    )
    final_output: str = Field(default="", description="The crew's answer.")
    tasks: list[CrewTaskRunRecord] = Field(
        default_factory=list, description="The tasks as they finished."
    )
    error: str | None = Field(default=None, description="failed: what went wrong.")
    error_code: str | None = Field(default=None, description="failed: the error's code.")
    total_tokens: int = Field(default=0, description="Tokens used by every model call.")
    elapsed_ms: float = Field(default=0.0, description="The whole run.")
    started_at: datetime = Field(default_factory=utcnow, description="When the run started.")
    finished_at: datetime | None = Field(default=None, description="When it ended.")

    @property
    def spec_id(self) -> str:
        """The crew that ran (runs are kept by agents.repository)."""
        return self.crew_id
