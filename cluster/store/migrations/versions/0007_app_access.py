"""Who may chat with a published app (``apps.access``: private or public), and an index
for an end user's own conversations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # with a server default, SQLite adds the column in place (no batch copy)
    op.add_column(
        "apps",
        sa.Column("access", sa.String(length=16), server_default="private", nullable=False),
    )
    op.create_index(
        "ix_conversations_workspace_id_user_id_updated_at",
        "conversations",
        ["workspace_id", "user_id", "updated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_workspace_id_user_id_updated_at", "conversations")
    op.drop_column("apps", "access")
