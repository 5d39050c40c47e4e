"""What a Dify import reports: each change, omission and binding the user must make."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.graph import WorkflowSpec

Severity = Literal["info", "needs_mapping", "dropped", "secret_removed"]


class ReportItem(BaseModel):
    """One thing the import changed, left out or needs the user for."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity = Field(
        description="info: changed, works; needs_mapping: bind or fix before it runs as in "
        "Dify; dropped: left out; secret_removed: a secret was emptied and must be re-entered."
    )
    node_id: str | None = Field(default=None, description="The node concerned, if any.")
    field: str | None = Field(default=None, description="The field concerned, e.g. 'data.url'.")
    message: str = Field(description="What happened and what to do.")


class ImportReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsl_version: str = Field(description="The Dify DSL version of the export.")
    mode: str = Field(description="The Dify app mode: 'workflow' or 'advanced-chat'.")
    imported_nodes: int = Field(description="Dify nodes imported (notes and dropped ones not).")
    items: list[ReportItem] = Field(
        default_factory=list, description="What changed, was left out or needs the user."
    )
    ready: bool = Field(
        description="The spec compiles, nothing needs mapping and no secret must be re-entered."
    )


class DifyImportResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: WorkflowSpec = Field(description="The imported workflow (even if it does not compile).")
    report: ImportReport = Field(description="What the import did.")
    validation_errors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="compile_workflow's problems [{node_id, field, message}], if any.",
    )
