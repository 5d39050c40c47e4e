"""The tables of workflows, their runs and each run's node executions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cluster.store.tables.base import Base, RunRow, SpecRow, UtcDateTime, json_column


class WorkflowRow(SpecRow):
    """A workflow; its graph is the ``spec`` JSON (agents.workflows.graph.WorkflowSpec)."""

    __tablename__ = "workflows"
    __table_args__ = (Index(None, "workspace_id"),)


class WorkflowRunRow(RunRow):
    """One run of a workflow; ``record`` is the whole WorkflowRunRecord as JSON."""

    __tablename__ = "workflow_runs"
    __table_args__ = (Index(None, "workspace_id", "workflow_id"),)
    spec_column = "workflow_id"


class WorkflowNodeRunRow(Base):
    """One node execution of a run; ``record`` is the whole NodeRunRecord as JSON."""

    __tablename__ = "workflow_node_runs"
    __table_args__ = (Index(None, "run_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(json_column())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
