"""The two tables of a spec-like feature, for its migration (the shape
:func:`cluster.store.tables.base.spec_tables` maps): ``upgrade()`` is
``create_spec_tables("evaluations", "evaluation_runs", "evaluation_id")``, ``downgrade()``
``drop_spec_tables("evaluations", "evaluation_runs")``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_spec_tables(table: str, run_table: str, run_column: str) -> None:
    """Create ``table`` (the specs, indexed by workspace) and ``run_table`` (their runs,
    the spec's id in ``run_column``, no foreign key: runs outlive their spec), with the
    constraint names of the store's naming convention."""
    utc, json = sa.DateTime(timezone=True), sa.JSON(none_as_null=True)
    op.create_table(
        table,
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("spec", json, nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=f"fk_{table}_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_workspace_id", table, ["workspace_id"])
    op.create_table(
        run_table,
        sa.Column("id", sa.String(), nullable=False),
        sa.Column(run_column, sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record", json, nullable=False),
        sa.Column("started_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{run_table}"),
    )
    op.create_index(
        f"ix_{run_table}_workspace_id_{run_column}", run_table, ["workspace_id", run_column]
    )


def drop_spec_tables(table: str, run_table: str) -> None:
    """Drop what :func:`create_spec_tables` created."""
    op.drop_table(run_table)
    op.drop_table(table)
