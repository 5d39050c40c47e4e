"""The table of each workflow run's node executions (workflows and their runs are the
spec-like tables of ``WORKFLOW``, see ``__init__``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cluster.store.tables.base import Base, UtcDateTime, json_column


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
