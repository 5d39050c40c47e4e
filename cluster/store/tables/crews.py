"""The tables of crews (CrewAI agents and tasks) and their runs."""

from __future__ import annotations

from sqlalchemy import Index

from cluster.store.tables.base import RunRow, SpecRow


class CrewRow(SpecRow):
    """A crew; ``spec`` is the crew spec as JSON."""

    __tablename__ = "crews"
    __table_args__ = (Index(None, "workspace_id"),)


class CrewRunRow(RunRow):
    """One run of a crew; ``record`` is the whole run record as JSON."""

    __tablename__ = "crew_runs"
    __table_args__ = (Index(None, "workspace_id", "crew_id"),)
    spec_column = "crew_id"
