"""Daily token usage of rate-limited subjects (keys, apps, end users), and the limits of
keys and apps.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_usage",
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "day", name="pk_token_usage"),
    )
    # nullable JSON columns: SQLite adds them in place
    op.add_column("api_keys", sa.Column("limits", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("apps", sa.Column("limits", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("apps", sa.Column("end_user_limits", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    op.drop_column("apps", "end_user_limits")
    op.drop_column("apps", "limits")
    op.drop_column("api_keys", "limits")
    op.drop_table("token_usage")
