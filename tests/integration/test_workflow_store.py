"""Workflows and their run records in the SQL store (SQLite and PostgreSQL), with the
same semantics as the in-memory store: workspace scoping, runs updated as they finish,
one record per node execution."""

from __future__ import annotations

from typing import Any

import pytest

from agents.errors import NotFoundError
from agents.workflows.engine import WorkflowEngine
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.records import WorkflowRecord
from agents.workflows.validation import compile_workflow
from tests.integration.named_stores import (
    InMemoryWorkflowStore,
    SqlWorkflowStore,
    WorkflowStoreProtocol,
)
from tests.integration.stores import StoreOpener

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(open_store: StoreOpener) -> WorkflowStoreProtocol:
    return await open_store(InMemoryWorkflowStore, SqlWorkflowStore)


def spec(name: str = "greeter") -> WorkflowSpec:
    return WorkflowSpec(
        name=name,
        nodes=[
            NodeSpec(id="start", type="start", data={"variables": [{"variable": "who"}]}),
            NodeSpec(
                id="t",
                type="template-transform",
                data={
                    "template": "Hi {{ w }}",
                    "variables": [{"variable": "w", "value_selector": ["start", "who"]}],
                },
            ),
            NodeSpec(
                id="end",
                type="end",
                data={"outputs": [{"variable": "text", "value_selector": ["t", "output"]}]},
            ),
        ],
        edges=[Edge(source="start", target="t"), Edge(source="t", target="end")],
    )


async def test_workflows_are_scoped_by_workspace(store: WorkflowStoreProtocol) -> None:
    record = await store.create_workflow(WorkflowRecord(workspace_id="ws1", spec=spec()))
    assert (await store.get_workflow("ws1", record.id)).spec == spec()
    with pytest.raises(NotFoundError):
        await store.get_workflow("ws2", record.id)
    assert [w.id for w in await store.list_workflows("ws1")] == [record.id]
    assert await store.list_workflows("ws2") == []
    record.spec = spec("renamed")
    await store.update_workflow(record)
    assert (await store.get_workflow("ws1", record.id)).spec.name == "renamed"
    await store.delete_workflow("ws1", record.id)
    with pytest.raises(NotFoundError):
        await store.get_workflow("ws1", record.id)


async def test_a_run_and_its_node_runs_are_stored(store: WorkflowStoreProtocol) -> None:
    from agents.workflows.context import WorkflowServices

    engine = WorkflowEngine(WorkflowServices(workspace_id="ws1"), store)
    events: list[Any] = [
        e async for e in engine.run(compile_workflow(spec()), {"who": "Lin"}, workflow_id="wf9")
    ]
    run_id = events[-1].run_id
    run = await store.get_run("ws1", run_id)
    assert run.status == "succeeded" and run.outputs == {"text": "Hi Lin"}
    assert run.inputs == {"who": "Lin"} and run.finished_at is not None
    nodes = await store.list_node_runs(run_id)
    assert [(n.node_id, n.status) for n in nodes] == [
        ("start", "succeeded"),
        ("t", "succeeded"),
        ("end", "succeeded"),
    ]
    assert nodes[1].inputs == {"w": "Lin"} and nodes[1].outputs == {"output": "Hi Lin"}
    with pytest.raises(NotFoundError):
        await store.get_run("ws2", run_id)
