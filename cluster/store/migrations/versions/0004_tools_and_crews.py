"""Custom tool providers (OpenAPI), crews and crew runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "tool_providers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec", _json(), nullable=False),
        sa.Column("auth", _json(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_tool_providers_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tool_providers"),
    )
    op.create_index("ix_tool_providers_workspace_id", "tool_providers", ["workspace_id"])
    op.create_table(
        "crews",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("spec", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_crews_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crews"),
    )
    op.create_index("ix_crews_workspace_id", "crews", ["workspace_id"])
    op.create_table(
        "crew_runs",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("crew_id", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record", _json(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crew_runs"),
    )
    op.create_index("ix_crew_runs_workspace_id_crew_id", "crew_runs", ["workspace_id", "crew_id"])


def downgrade() -> None:
    op.drop_table("crew_runs")
    op.drop_table("crews")
    op.drop_table("tool_providers")
