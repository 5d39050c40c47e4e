"""What every table shares: the declarative base, its naming convention, UTC timestamps,
the workspaces table, and the columns of a workspace-owned spec and of its runs.

Every table carries ``workspace_id`` and is indexed by it first: every query is
scoped by a workspace. Timestamps are stored in UTC and always read back
timezone-aware (SQLite keeps no zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from agents.ids import utcnow

#: Deterministic constraint names, the same on every backend (migrations refer to them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend; naive input is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _utc(value)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def json_column() -> JSON:
    """A JSON column type whose Python None is SQL NULL."""
    return JSON(none_as_null=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SpecColumns:
    """The columns of a workspace-owned spec (a workflow, a crew, a tool provider): its
    name and its JSON ``spec``; the feature's table adds its own columns and indexes."""

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RunColumns:
    """The columns of one run of a spec: its status and the whole run record as JSON.

    ``spec_id`` is the id of the spec that ran, in the column the table names in
    ``spec_column`` (``workflow_id``, ``crew_id``); it has no foreign key: runs outlive
    their spec.
    """

    spec_column: ClassVar[str]

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(json_column())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @declared_attr
    def spec_id(cls) -> Mapped[str]:
        return mapped_column(cls.spec_column, String)
