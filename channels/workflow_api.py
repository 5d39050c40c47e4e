"""The REST API for workflows (``/api/workflows``): CRUD, validation, Dify DSL import,
export, and runs (blocking JSON, or the run's events as server-sent events)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.errors import WorkflowValidationError
from agents.workflows.graph import WorkflowSpec
from agents.workflows.validation import compile_workflow
from channels.rest_api import Workspace, services

router = APIRouter(prefix="/api/workflows", tags=["workflows"])


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict, description="The start node's inputs.")
    stream: bool = Field(default=False, description="Stream the run's events as SSE.")
    query: str = Field(default="", description="sys.query (chat-mode workflows).")
    user_id: str = Field(default="", description="sys.user_id.")


class ImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsl: str = Field(min_length=1, description="A Dify DSL export (YAML) or a Chorus export.")
    save: bool = Field(default=True, description="Store the workflow when it is valid.")


def _workflows(request: Request) -> Any:
    return services(request).workflows


@router.post("", status_code=201, summary="Create a workflow (validated first)")
async def create(spec: WorkflowSpec, request: Request, workspace: str = Workspace) -> Any:
    return (await _workflows(request).create(workspace, spec)).model_dump(mode="json")


@router.get("", summary="List workflows")
async def list_workflows(request: Request, workspace: str = Workspace) -> Any:
    records = await _workflows(request).store.list_workflows(workspace)
    return {"data": [r.model_dump(mode="json") for r in records]}


@router.post("/validate", summary="Check a workflow without storing it")
async def validate(spec: WorkflowSpec) -> Any:
    try:
        compile_workflow(spec)
    except WorkflowValidationError as exc:
        return {"valid": False, "errors": exc.problems}
    return {"valid": True, "errors": []}


@router.post("/import", summary="Import a Dify DSL export (or a Chorus export)")
async def import_dsl(body: ImportBody, request: Request, workspace: str = Workspace) -> Any:
    from agents.workflows.dify.importer import import_dify
    from agents.workflows.export import load_spec

    if body.dsl.lstrip().startswith(("kind: chorus-workflow", '{"kind": "chorus-workflow"')):
        spec, report, problems = load_spec(body.dsl), None, []
        try:
            compile_workflow(spec)
        except WorkflowValidationError as exc:
            problems = exc.problems
    else:
        result = import_dify(body.dsl)
        spec, report, problems = result.spec, result.report, result.validation_errors
    payload: dict[str, Any] = {
        "report": report.model_dump(mode="json") if report is not None else None,
        "validation_errors": problems,
        "spec": spec.model_dump(mode="json", by_alias=True),
        "workflow": None,
    }
    if problems:
        return JSONResponse(payload, status_code=422)
    if body.save:
        record = await _workflows(request).create(workspace, spec)
        payload["workflow"] = record.model_dump(mode="json")
    return JSONResponse(payload, status_code=201 if body.save else 200)


@router.get("/runs/{run_id}", summary="A run with its node records")
async def get_run(run_id: str, request: Request, workspace: str = Workspace) -> Any:
    store = _workflows(request).store
    run = await store.get_run(workspace, run_id)
    nodes = await store.list_node_runs(run_id)
    return {**run.model_dump(mode="json"), "nodes": [n.model_dump(mode="json") for n in nodes]}


@router.get("/{workflow_id}", summary="Get a workflow")
async def get_workflow(workflow_id: str, request: Request, workspace: str = Workspace) -> Any:
    record = await _workflows(request).store.get_workflow(workspace, workflow_id)
    return record.model_dump(mode="json")


@router.put("/{workflow_id}", summary="Replace a workflow's graph (validated first)")
async def update(
    workflow_id: str, spec: WorkflowSpec, request: Request, workspace: str = Workspace
) -> Any:
    return (await _workflows(request).update(workspace, workflow_id, spec)).model_dump(mode="json")


@router.delete("/{workflow_id}", status_code=204, summary="Delete a workflow")
async def delete(workflow_id: str, request: Request, workspace: str = Workspace) -> Response:
    await _workflows(request).store.delete_workflow(workspace, workflow_id)
    return Response(status_code=204)


@router.get("/{workflow_id}/export", summary="Export as YAML (no secrets)")
async def export(workflow_id: str, request: Request, workspace: str = Workspace) -> Response:
    from agents.workflows.export import export_spec

    record = await _workflows(request).store.get_workflow(workspace, workflow_id)
    return Response(export_spec(record.spec), media_type="application/x-yaml")


@router.post("/{workflow_id}/run", summary="Run a workflow (blocking, or streamed as SSE)")
async def run(workflow_id: str, body: RunBody, request: Request, workspace: str = Workspace) -> Any:
    workflows = _workflows(request)
    await workflows.store.get_workflow(workspace, workflow_id)  # 404 before any stream
    options = {"query": body.query, "user_id": body.user_id}
    if not body.stream:
        return await workflows.run_to_end(workspace, workflow_id, body.inputs, **options)

    async def events() -> AsyncIterator[str]:
        async for event in workflows.run(workspace, workflow_id, body.inputs, **options):
            yield f"event: {event.type}\ndata: {json.dumps(event.model_dump(mode='json'))}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
