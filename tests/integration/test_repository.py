"""The contract of the workspace-owned repository (agents.repository), for every feature
built on it (workflows, crews, tool providers) on the in-memory fake, SQLite and a real
PostgreSQL: ids refused twice, workspace scoping with the feature's own error, oldest
first, updates, deletes that keep the runs, runs saved as they progress.

Notes are a spec-like feature that exists only here, as a new one would be: a kind,
records, and the two tables made from the kind (on a scratch metadata, not the schema's)
and created by the migration helper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel, Field
from sqlalchemy import Connection, MetaData, inspect

from agents.crews.records import CREW, CrewRecord, CrewRunRecord, CrewTaskRunRecord
from agents.crews.spec import CrewSpec
from agents.errors import InvalidInputError, NotFoundError
from agents.ids import new_id, utcnow
from agents.repository import InMemoryRunRepository, RecordKind
from agents.tools.records import ToolProviderRecord
from agents.tools.store import InMemoryToolProviderStore
from agents.workflows.graph import NodeSpec, WorkflowSpec
from agents.workflows.records import WorkflowRecord, WorkflowRunRecord
from agents.workflows.store import InMemoryWorkflowStore
from cluster.store import SqlRunRepository, SqlToolProviderStore, SqlWorkflowStore
from cluster.store.migrations.spec_tables import create_spec_tables, drop_spec_tables
from cluster.store.tables import NAMING_CONVENTION, Base, spec_tables
from tests.integration.stores import StoreOpener

pytestmark = pytest.mark.integration

PAST = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@dataclass(frozen=True)
class Feature:
    """A feature's repository, and how to make and change its records."""

    memory: Callable[[], Any]
    sql: Callable[[str], Any]
    record: Callable[[str, str], Any]  # (workspace, name) -> a new record
    renamed: Callable[[Any, str], None]  # changes the record in place
    name: Callable[[Any], str]
    noun: str
    code: str
    param: str
    run: Callable[[Any], Any] | None = None  # the spec -> a new run of it


def workflow(ws: str, name: str) -> WorkflowRecord:
    return WorkflowRecord(
        workspace_id=ws, spec=WorkflowSpec(name=name, nodes=[NodeSpec(id="start", type="start")])
    )


def crew(ws: str, name: str) -> CrewRecord:
    return CrewRecord(
        workspace_id=ws,
        spec=CrewSpec.model_validate(
            {
                "name": name,
                "agents": [{"id": "a", "role": "R", "goal": "G", "backstory": "B"}],
                "tasks": [{"id": "t", "description": "D", "expected_output": "O", "agent": "a"}],
            }
        ),
    )


class NoteSpec(BaseModel):
    name: str = Field(description="The note's name.")
    text: str = Field(alias="body", description="Stored under its alias, as workflows' are.")


class NoteRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("note"))
    workspace_id: str
    spec: NoteSpec
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class NoteRunRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("nrun"))
    note_id: str
    workspace_id: str
    status: str = "running"
    outputs: dict[str, str] = Field(default_factory=dict)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def spec_id(self) -> str:
        return self.note_id


NOTE = RecordKind("note", "note_not_found", "note_id", table="notes_t", run_table="note_runs_t")
SCRATCH = MetaData(naming_convention=NAMING_CONVENTION)
Base.metadata.tables["workspaces"].to_metadata(SCRATCH)  # what the notes refer to
spec_tables(NOTE, SCRATCH)


def migrate_notes(connection: Connection, *, drop: bool = False) -> None:
    """The notes' migration, or its downgrade."""
    with Operations.context(MigrationContext.configure(connection)):
        if drop:
            drop_spec_tables(NOTE.table, NOTE.run_table)
        else:
            create_spec_tables(NOTE.table, NOTE.run_table, NOTE.run_column)


class SqlNoteStore(SqlRunRepository[NoteRecord, NoteRunRecord]):
    """The generic repository of notes; it creates their tables as it starts and drops
    them as it closes (the session's PostgreSQL database keeps only the schema's)."""

    def __init__(self, database: str) -> None:
        super().__init__(database, NOTE, NoteRecord, NoteRunRecord)

    async def start(self) -> None:
        await super().start()
        async with self.database.engine.begin() as connection:
            await connection.run_sync(migrate_notes)

    async def close(self) -> None:
        async with self.database.engine.begin() as connection:
            await connection.run_sync(migrate_notes, drop=True)
        await super().close()


def rename_spec(record: Any, name: str) -> None:
    record.spec = record.spec.model_copy(update={"name": name})


def rename(record: Any, name: str) -> None:
    record.name = name


FEATURES = {
    "workflows": Feature(
        memory=InMemoryWorkflowStore,
        sql=SqlWorkflowStore,
        record=workflow,
        renamed=rename_spec,
        name=lambda r: r.spec.name,
        noun="workflow",
        code="workflow_not_found",
        param="workflow_id",
        run=lambda w: WorkflowRunRecord(
            workflow_id=w.id, workspace_id=w.workspace_id, inputs={"q": "x"}
        ),
    ),
    "crews": Feature(
        memory=lambda: InMemoryRunRepository(CREW),
        sql=lambda url: SqlRunRepository(url, CREW, CrewRecord, CrewRunRecord),
        record=crew,
        renamed=rename_spec,
        name=lambda r: r.spec.name,
        noun="crew",
        code="crew_not_found",
        param="crew_id",
        run=lambda c: CrewRunRecord(crew_id=c.id, workspace_id=c.workspace_id, inputs={"q": "x"}),
    ),
    "notes": Feature(
        memory=lambda: InMemoryRunRepository(NOTE),
        sql=SqlNoteStore,
        record=lambda ws, name: NoteRecord(workspace_id=ws, spec=NoteSpec(name=name, body="b")),
        renamed=rename_spec,
        name=lambda r: r.spec.name,
        noun="note",
        code="note_not_found",
        param="note_id",
        run=lambda n: NoteRunRecord(note_id=n.id, workspace_id=n.workspace_id),
    ),
    "tool_providers": Feature(
        memory=InMemoryToolProviderStore,
        sql=SqlToolProviderStore,
        record=lambda ws, name: ToolProviderRecord(workspace_id=ws, name=name, document={}),
        renamed=rename,
        name=lambda r: r.name,
        noun="tool provider",
        code="tool_provider_not_found",
        param="provider_id",
    ),
}
WITH_RUNS = [name for name, feature in FEATURES.items() if feature.run is not None]


@pytest.fixture(params=list(FEATURES))
def feature(request: pytest.FixtureRequest) -> Feature:
    return FEATURES[request.param]


@pytest.fixture
async def repo(open_store: StoreOpener, feature: Feature) -> Any:
    return await open_store(feature.memory, feature.sql)


def expect_not_found(err: NotFoundError, feature: Feature, record_id: str) -> None:
    assert (err.code, err.param) == (feature.code, feature.param)
    assert err.message == f"{feature.noun} {record_id} not found"


async def test_create_then_get_and_list_oldest_first(repo: Any, feature: Feature, ws: str) -> None:
    newer = await repo.create_record(feature.record(ws, "newer"))
    older = feature.record(ws, "older")
    older.created_at = older.updated_at = PAST
    older = await repo.create_record(older)
    assert await repo.get_record(ws, newer.id) == newer
    assert await repo.get_record(ws, older.id) == older
    assert [r.id for r in await repo.list_records(ws)] == [older.id, newer.id]


async def test_a_repeated_id_is_refused(repo: Any, feature: Feature, ws: str) -> None:
    record = await repo.create_record(feature.record(ws, "first"))
    again = feature.record(ws, "second")
    again.id = record.id
    with pytest.raises(InvalidInputError) as err:
        await repo.create_record(again)
    assert err.value.message == f"{feature.noun} '{record.id}' exists"
    assert feature.name(await repo.get_record(ws, record.id)) == "first"


async def test_another_workspace_finds_nothing(
    repo: Any, feature: Feature, ws: str, other_ws: str
) -> None:
    record = await repo.create_record(feature.record(ws, "mine"))
    with pytest.raises(NotFoundError) as get:
        await repo.get_record(other_ws, record.id)
    expect_not_found(get.value, feature, record.id)
    with pytest.raises(NotFoundError) as delete:
        await repo.delete_record(other_ws, record.id)
    expect_not_found(delete.value, feature, record.id)
    theirs = await repo.get_record(ws, record.id)
    theirs.workspace_id = other_ws
    with pytest.raises(NotFoundError) as update:
        await repo.update_record(theirs)
    expect_not_found(update.value, feature, record.id)
    assert await repo.list_records(other_ws) == []
    assert await repo.get_record(ws, record.id) == record


async def test_unknown_ids_are_not_found(repo: Any, feature: Feature, ws: str) -> None:
    missing = feature.record(ws, "never stored")
    for call in (
        repo.get_record(ws, missing.id),
        repo.delete_record(ws, missing.id),
        repo.update_record(missing),
    ):
        with pytest.raises(NotFoundError) as err:
            await call
        expect_not_found(err.value, feature, missing.id)


async def test_update_stores_the_change_and_the_time(repo: Any, feature: Feature, ws: str) -> None:
    record = feature.record(ws, "before")
    record.created_at = record.updated_at = PAST
    await repo.create_record(record)
    feature.renamed(record, "after")
    updated = await repo.update_record(record)
    assert updated.updated_at > PAST and record.updated_at == updated.updated_at
    stored = await repo.get_record(ws, record.id)
    assert feature.name(stored) == "after"
    assert (stored.created_at, stored.updated_at) == (PAST, updated.updated_at)


async def test_delete_removes_only_that_record(repo: Any, feature: Feature, ws: str) -> None:
    gone = await repo.create_record(feature.record(ws, "gone"))
    kept = await repo.create_record(feature.record(ws, "kept"))
    await repo.delete_record(ws, gone.id)
    with pytest.raises(NotFoundError):
        await repo.get_record(ws, gone.id)
    assert [r.id for r in await repo.list_records(ws)] == [kept.id]


@pytest.mark.parametrize("feature", [FEATURES[name] for name in WITH_RUNS], ids=WITH_RUNS)
async def test_a_run_is_saved_as_it_progresses(repo: Any, feature: Feature, ws: str) -> None:
    assert feature.run is not None
    spec = await repo.create_record(feature.record(ws, "runner"))
    run = feature.run(spec)
    await repo.save_run(run)
    assert await repo.get_run(ws, run.id) == run
    run.status, run.outputs = "succeeded", {"answer": "42"}
    run.finished_at = run.started_at + timedelta(seconds=1)
    if isinstance(run, CrewRunRecord):
        run.tasks = [CrewTaskRunRecord(task_id="t", status="succeeded", output="42")]
    await repo.save_run(run)
    assert await repo.get_run(ws, run.id) == run


@pytest.mark.parametrize("feature", [FEATURES[name] for name in WITH_RUNS], ids=WITH_RUNS)
async def test_runs_are_scoped_listed_newest_first_and_outlive_their_spec(
    repo: Any, feature: Feature, ws: str, other_ws: str
) -> None:
    assert feature.run is not None
    spec = await repo.create_record(feature.record(ws, "runner"))
    sibling = await repo.create_record(feature.record(ws, "sibling"))
    first, second = feature.run(spec), feature.run(spec)
    first.started_at, second.started_at = PAST, PAST + timedelta(minutes=1)
    for run in (second, first, feature.run(sibling)):
        await repo.save_run(run)

    assert [r.id for r in await repo.list_runs(ws, spec.id)] == [second.id, first.id]
    assert await repo.list_runs(other_ws, spec.id) == []
    for run_id in (first.id, "run_missing"):
        with pytest.raises(NotFoundError) as err:
            await repo.get_run(other_ws if run_id == first.id else ws, run_id)
        assert (err.value.code, err.value.param) == ("run_not_found", "run_id")
        assert err.value.message == f"run {run_id} not found"

    await repo.delete_record(ws, spec.id)
    assert await repo.get_run(ws, first.id) == first  # the history stays
    assert [r.id for r in await repo.list_runs(ws, spec.id)] == [second.id, first.id]


def _notes_schema_diff(connection: Connection) -> list[Any]:
    only_scratch = {"include_name": lambda name, kind, _: kind != "table" or name in SCRATCH.tables}
    context = MigrationContext.configure(connection, opts=only_scratch)
    return list(compare_metadata(context, SCRATCH))


async def test_the_migration_helper_creates_and_drops_the_tables_of_the_kind(
    database_url: str,
) -> None:
    store = SqlNoteStore(database_url)
    await store.start()
    async with store.database.engine.connect() as connection:
        assert await connection.run_sync(_notes_schema_diff) == []
    await store.close()
    async with store.database.engine.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    await store.database.engine.dispose()
    assert {"crews", "crew_runs"} <= set(names)
    assert not {NOTE.table, NOTE.run_table} & set(names)
