"""Stored workflows and their runs (one record per run, one per node execution)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.ids import new_id, utcnow
from agents.workflows.graph import WorkflowSpec


class WorkflowRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("wf"))
    workspace_id: str
    spec: WorkflowSpec
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WorkflowRunRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("run"))
    workflow_id: str
    workspace_id: str
    status: Literal["running", "succeeded", "failed", "stopped"] = "running"
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    conversation_id: str | None = None
    total_tokens: int = 0
    elapsed_ms: float = 0.0
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def spec_id(self) -> str:
        """The workflow that ran (runs are kept by agents.repository)."""
        return self.workflow_id


class NodeRunRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("nr"))
    run_id: str
    node_id: str
    node_type: str
    title: str = ""
    status: Literal["succeeded", "failed", "exception", "skipped"]
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    elapsed_ms: float = 0.0
    tokens: int = 0
    attempts: int = 1
    iteration_index: int | None = None
    started_at: datetime = Field(default_factory=utcnow)
