"""One repository shape for every workspace-owned spec and its runs.

Workflows, crews and tool providers (evaluations and channels to come) are all a
spec a workspace owns, most with runs. Their stores share one contract:

- ``create_record`` refuses an id that exists (``InvalidInputError``);
- ``get_record``, ``update_record`` and ``delete_record`` find only the workspace's own
  records: another workspace's is not found, with the feature's own error
  (:class:`RecordKind`: ``workflow_not_found`` with ``param="workflow_id"``, ...);
- ``list_records`` lists the workspace's records oldest first;
- ``update_record`` sets the record's ``updated_at`` (on the object passed too);
- ``delete_record`` deletes the spec and keeps its runs' history;
- ``save_run`` inserts a run or updates it as it progresses, ``get_run`` finds the
  workspace's own runs only (``run_not_found``), ``list_runs`` lists a spec's runs
  newest first.

This module holds the contract (:class:`RunRepositoryProtocol`), its record shapes, its
errors (:class:`RecordKind`) and the in-memory repositories (the fakes); the SQL ones
are ``cluster.store.repository``'s, and ``tests/integration/test_repository.py`` runs
both through one suite. A feature whose records are a :class:`SpecRecord` and a
:class:`RunRecord` has no store of its own: its service takes a
``RunRepositoryProtocol[ItsRecord, ItsRunRecord]`` (crews'), its tests pass
``InMemoryRunRepository(ITS_KIND)``. One with more to store subclasses both
(workflows' node runs, tool providers' secrets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, Self, TypeVar

from agents import error_codes
from agents.errors import InvalidInputError, NotFoundError
from agents.ids import utcnow


class OwnedRecord(Protocol):
    """A spec a workspace owns, as its store keeps it (a pydantic record)."""

    @property
    def id(self) -> str: ...
    @property
    def workspace_id(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...

    updated_at: datetime

    def model_copy(self, *, deep: bool = ...) -> Self: ...


class NamedSpec(Protocol):
    """A spec users write (a pydantic model) with a name."""

    @property
    def name(self) -> str: ...
    def model_dump(self, *, mode: str = ..., by_alias: bool = ...) -> dict[str, Any]: ...


class SpecRecord(OwnedRecord, Protocol):
    """The stored record of a spec: ``{id, workspace_id, spec, created_at, updated_at}``."""

    @property
    def spec(self) -> NamedSpec: ...
    @classmethod
    def model_validate(cls, obj: dict[str, Any]) -> Self: ...


class RunRecord(Protocol):
    """One run of a spec (a pydantic record), saved as it progresses."""

    @property
    def id(self) -> str: ...
    @property
    def workspace_id(self) -> str: ...
    @property
    def spec_id(self) -> str:
        """The id of the spec that ran (the workflow's, the crew's)."""
        ...

    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...

    def model_copy(self, *, deep: bool = ...) -> Self: ...
    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...
    @classmethod
    def model_validate(cls, obj: dict[str, Any]) -> Self: ...


RecordT = TypeVar("RecordT", bound=OwnedRecord)
RunT = TypeVar("RunT", bound=RunRecord)


class RunRepositoryProtocol(Protocol[RecordT, RunT]):
    """Workspace-owned specs and their runs (the contract above); a feature's service
    is typed with it."""

    async def create_record(self, record: RecordT) -> RecordT: ...
    async def get_record(self, workspace_id: str, record_id: str, /) -> RecordT: ...
    async def list_records(self, workspace_id: str, /) -> list[RecordT]: ...
    async def update_record(self, record: RecordT) -> RecordT: ...
    async def delete_record(self, workspace_id: str, record_id: str, /) -> None: ...
    async def save_run(self, run: RunT) -> None: ...
    async def get_run(self, workspace_id: str, run_id: str, /) -> RunT: ...
    async def list_runs(self, workspace_id: str, spec_id: str, /) -> list[RunT]: ...


@dataclass(frozen=True)
class RecordKind:
    """A kind of record in its feature's words: the errors its repository raises, and
    the names of its SQL tables (by default from the noun: ``evaluation`` keeps its
    specs in ``evaluations``, its runs in ``evaluation_runs`` with the spec's id in
    ``evaluation_id``)."""

    noun: str
    not_found_code: str
    param: str
    table: str = ""
    run_table: str = ""
    run_column: str = ""

    def __post_init__(self) -> None:
        stem = self.noun.replace(" ", "_")
        object.__setattr__(self, "table", self.table or f"{stem}s")
        object.__setattr__(self, "run_table", self.run_table or f"{stem}_runs")
        object.__setattr__(self, "run_column", self.run_column or f"{stem}_id")

    def not_found(self, record_id: str) -> NotFoundError:
        return NotFoundError(
            f"{self.noun} {record_id} not found", code=self.not_found_code, param=self.param
        )

    def exists(self, record_id: str) -> InvalidInputError:
        return InvalidInputError(f"{self.noun} '{record_id}' exists")


#: Runs of every feature are "run ... not found" (code ``run_not_found``).
RUN = RecordKind("run", error_codes.RUN_NOT_FOUND, "run_id")


class InMemoryRepository(Generic[RecordT]):
    """Workspace-owned specs of ``kind`` in memory, for unit tests; records go in and out
    as copies."""

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self.records: dict[str, RecordT] = {}

    def _owned(self, workspace_id: str, record_id: str, /) -> RecordT:
        record = self.records.get(record_id)
        if record is None or record.workspace_id != workspace_id:
            raise self.kind.not_found(record_id)
        return record

    async def create_record(self, record: RecordT) -> RecordT:
        if record.id in self.records:
            raise self.kind.exists(record.id)
        self.records[record.id] = record.model_copy(deep=True)
        return record

    async def get_record(self, workspace_id: str, record_id: str, /) -> RecordT:
        return self._owned(workspace_id, record_id).model_copy(deep=True)

    async def list_records(self, workspace_id: str, /) -> list[RecordT]:
        found = [r for r in self.records.values() if r.workspace_id == workspace_id]
        return [r.model_copy(deep=True) for r in sorted(found, key=lambda r: (r.created_at, r.id))]

    async def update_record(self, record: RecordT) -> RecordT:
        self._owned(record.workspace_id, record.id)
        record.updated_at = utcnow()
        self.records[record.id] = record.model_copy(deep=True)
        return record

    async def delete_record(self, workspace_id: str, record_id: str, /) -> None:
        self._owned(workspace_id, record_id)
        del self.records[record_id]


class InMemoryRunRepository(InMemoryRepository[RecordT], Generic[RecordT, RunT]):
    """Workspace-owned specs and their runs in memory: the fake of RunRepositoryProtocol."""

    def __init__(self, kind: RecordKind) -> None:
        super().__init__(kind)
        self.runs: dict[str, RunT] = {}

    async def save_run(self, run: RunT) -> None:
        self.runs[run.id] = run.model_copy(deep=True)

    async def get_run(self, workspace_id: str, run_id: str, /) -> RunT:
        run = self.runs.get(run_id)
        if run is None or run.workspace_id != workspace_id:
            raise RUN.not_found(run_id)
        return run.model_copy(deep=True)

    async def list_runs(self, workspace_id: str, spec_id: str, /) -> list[RunT]:
        found = [
            r for r in self.runs.values() if r.workspace_id == workspace_id and r.spec_id == spec_id
        ]
        found.sort(key=lambda r: r.id)
        found.sort(key=lambda r: r.started_at, reverse=True)  # stable: ties stay by id
        return [r.model_copy(deep=True) for r in found]
