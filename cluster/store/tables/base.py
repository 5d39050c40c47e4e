"""What every table shares: the declarative base, its naming convention, UTC timestamps,
the workspaces table, and the columns of a workspace-owned spec and of its runs (and
the two tables of a spec-like feature, made from its kind: :func:`spec_tables`).

Every table carries ``workspace_id`` and is indexed by it first: every query is
scoped by a workspace. Timestamps are stored in UTC and always read back
timezone-aware (SQLite keeps no zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Index, MetaData, String, Text, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from agents.ids import utcnow
from agents.repository import RecordKind

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


M = TypeVar("M", bound=BaseModel)


class RecordRow(Base, Generic[M]):
    """A row that holds one pydantic record (``record_model``), a column per field of the
    same name; a JSON column holds its field in JSON form. A column that is no field (an
    autoincrement id) is the database's."""

    __abstract__ = True
    record_model: type[M]

    @classmethod
    def values(cls, record: M) -> dict[str, Any]:
        """The record's column values, by column name (for an insert or an upsert)."""
        plain, json = _fields(cls)
        return record.model_dump(include=set(plain)) | record.model_dump(
            mode="json", include=set(json)
        )

    @classmethod
    def from_record(cls, record: M) -> Self:
        row = cls()
        row.fill(record)
        return row

    def fill(self, record: M) -> None:
        """Overwrite every column the record has with the record's value."""
        values = self.values(record)
        for key, name in _attributes(type(self)):
            setattr(self, key, values[name])

    def to_record(self) -> M:
        fields = {name: getattr(self, key) for key, name in _attributes(type(self))}
        return self.record_model.model_validate(fields)


@cache
def _attributes(row_class: type[RecordRow[Any]]) -> tuple[tuple[str, str], ...]:
    """(attribute, column name) of every column that is a field of the row's record."""
    fields = row_class.record_model.model_fields
    return tuple(
        (attr.key, attr.columns[0].name)
        for attr in inspect(row_class).column_attrs
        if attr.columns[0].name in fields
    )


@cache
def _fields(row_class: type[RecordRow[Any]]) -> tuple[frozenset[str], frozenset[str]]:
    """The record's fields stored as they are, and those stored as JSON."""
    columns = {column.name: column for column in row_class.__table__.columns}
    stored = frozenset(name for _, name in _attributes(row_class))
    json = frozenset(name for name in stored if isinstance(columns[name].type, JSON))
    return stored - json, json


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    #: Set by the accounts store; a workspace made by the first record stored in it (the
    #: ``local`` one) has none until it is named.
    name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OwnedRow(Base):
    """A record a workspace owns (an app, a conversation, a knowledge base, a spec): its
    id, its workspace and its timestamps; the feature's table adds the rest."""

    __abstract__ = True

    # sort_order: the table's columns in the migrations' order (these around the rest)
    id: Mapped[str] = mapped_column(String, primary_key=True, sort_order=-2)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), sort_order=-1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, sort_order=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, sort_order=2)


class SpecRow(OwnedRow):
    """A workspace-owned spec (a workflow, a crew, a tool provider), indexed by workspace:
    its name and its JSON ``spec``; the feature's table may add columns."""

    __abstract__ = True

    name: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(json_column())

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        return (Index(None, "workspace_id"),)


class RunRow(Base):
    """One run of a spec: its status and the whole run record as JSON.

    ``spec_id`` is the id of the spec that ran, in the column the table names in
    ``spec_column`` (``workflow_id``, ``crew_id``); it has no foreign key: runs outlive
    their spec. Runs are indexed by workspace and spec.
    """

    __abstract__ = True
    spec_column: ClassVar[str]

    id: Mapped[str] = mapped_column(String, primary_key=True, sort_order=-2)
    workspace_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(json_column())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @declared_attr
    def spec_id(cls) -> Mapped[str]:
        return mapped_column(cls.spec_column, String, sort_order=-1)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        return (Index(None, "workspace_id", cls.spec_column),)


_spec_tables: dict[RecordKind, tuple[type[SpecRow], type[RunRow]]] = {}


def spec_tables(
    kind: RecordKind, metadata: MetaData | None = None
) -> tuple[type[SpecRow], type[RunRow]]:
    """The tables of a spec-like feature: its specs in ``kind.table``, its runs in
    ``kind.run_table`` (the spec's id in ``kind.run_column``), each indexed by workspace.
    Made on the first call, on ``Base.metadata`` (or a test's scratch ``metadata``)."""
    if kind not in _spec_tables:
        name = kind.noun.title().replace(" ", "")
        scratch = {} if metadata is None else {"metadata": metadata}
        specs = type(f"{name}Row", (SpecRow,), scratch | {"__tablename__": kind.table})
        runs = type(
            f"{name}RunRow",
            (RunRow,),
            scratch | {"__tablename__": kind.run_table, "spec_column": kind.run_column},
        )
        assert issubclass(specs, SpecRow) and issubclass(runs, RunRow)  # for the type checker
        _spec_tables[kind] = specs, runs
    return _spec_tables[kind]
