"""The REST API for workflows (``/api/workflows``): CRUD, validation, Dify DSL import,
export, and runs (blocking JSON, or the run's events as server-sent events)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.errors import WorkflowValidationError
from agents.workflows.graph import WorkflowSpec
from agents.workflows.records import NodeRunRecord, WorkflowRecord, WorkflowRunRecord
from agents.workflows.service import WorkflowService
from agents.workflows.validation import compile_workflow
from channels.auth import READ, WRITE, requires
from channels.auth import workspace as in_workspace
from channels.responses import DataList
from channels.rest_api import services

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


class WorkflowProblem(BaseModel):
    node_id: str | None = Field(description="The node it is about, if one.")
    field: str | None = Field(description="The field it is about, if one.")
    message: str = Field(description="What is wrong.")


class WorkflowCheck(BaseModel):
    valid: bool = Field(description="Whether the workflow compiles.")
    errors: list[WorkflowProblem] = Field(description="What is wrong with it, if anything.")


class WorkflowRunDetail(WorkflowRunRecord):
    nodes: list[NodeRunRecord] = Field(description="The run's node executions.")


class WorkflowRunError(BaseModel):
    code: str = Field(description="The error's stable code.")
    message: str = Field(description="What went wrong.")
    node_id: str | None = Field(description="The node that failed, if one did.")
    details: dict[str, Any] = Field(description="More about it (JSON).")


class WorkflowRunResult(BaseModel):
    """A blocking run's outcome (``GET /runs/{run_id}`` has the rest)."""

    run_id: str = Field(description="The run, as stored.")
    workflow_id: str = Field(description="The workflow.")
    status: Literal["succeeded", "failed", "stopped"] = Field(description="How the run ended.")
    outputs: dict[str, Any] = Field(description="The end nodes' outputs (JSON).")
    error: WorkflowRunError | None = Field(description="The error, if the run failed.")
    elapsed_ms: float = Field(description="The whole run.")
    total_tokens: int = Field(description="Tokens used by every model call.")


def _workflows(request: Request) -> WorkflowService:
    return services(request).workflows


@router.post(
    "",
    status_code=201,
    summary="Create a workflow (validated first)",
    response_model_by_alias=False,
)
async def create(
    spec: WorkflowSpec, request: Request, workspace: str = in_workspace(WRITE)
) -> WorkflowRecord:
    return await _workflows(request).create(workspace, spec)


@router.get("", summary="List workflows", response_model_by_alias=False)
async def list_workflows(
    request: Request, workspace: str = in_workspace(READ)
) -> DataList[WorkflowRecord]:
    return DataList(data=await _workflows(request).store.list_records(workspace))


@router.post(
    "/validate", dependencies=[requires(READ)], summary="Check a workflow without storing it"
)
async def validate(spec: WorkflowSpec) -> WorkflowCheck:
    try:
        compile_workflow(spec)
    except WorkflowValidationError as exc:
        problems = [WorkflowProblem.model_validate(p) for p in exc.problems]
        return WorkflowCheck(valid=False, errors=problems)
    return WorkflowCheck(valid=True, errors=[])


@router.post("/import", summary="Import a Dify DSL export (or a Chorus export)")
async def import_dsl(
    body: ImportBody, request: Request, workspace: str = in_workspace(WRITE)
) -> JSONResponse:
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


@router.get("/runs/{run_id}", summary="A run with its node records", response_model_by_alias=False)
async def get_run(
    run_id: str, request: Request, workspace: str = in_workspace(READ)
) -> WorkflowRunDetail:
    store = _workflows(request).store
    run = await store.get_run(workspace, run_id)
    nodes = await store.list_node_runs(run_id)
    return WorkflowRunDetail(**run.model_dump(), nodes=nodes)


@router.get("/{workflow_id}", summary="Get a workflow", response_model_by_alias=False)
async def get_workflow(
    workflow_id: str, request: Request, workspace: str = in_workspace(READ)
) -> WorkflowRecord:
    return await _workflows(request).store.get_record(workspace, workflow_id)


@router.put(
    "/{workflow_id}",
    summary="Replace a workflow's graph (validated first)",
    response_model_by_alias=False,
)
async def update(
    workflow_id: str, spec: WorkflowSpec, request: Request, workspace: str = in_workspace(WRITE)
) -> WorkflowRecord:
    return await _workflows(request).update(workspace, workflow_id, spec)


@router.delete("/{workflow_id}", status_code=204, summary="Delete a workflow")
async def delete(
    workflow_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> Response:
    await _workflows(request).store.delete_record(workspace, workflow_id)
    return Response(status_code=204)


@router.get("/{workflow_id}/export", summary="Export as YAML (no secrets)")
async def export(
    workflow_id: str, request: Request, workspace: str = in_workspace(READ)
) -> Response:
    from agents.workflows.export import export_spec

    record = await _workflows(request).store.get_record(workspace, workflow_id)
    return Response(export_spec(record.spec), media_type="application/x-yaml")


@router.post(
    "/{workflow_id}/run",
    summary="Run a workflow (blocking, or streamed as SSE)",
    response_model=WorkflowRunResult,
    response_model_by_alias=False,
)
async def run(
    workflow_id: str, body: RunBody, request: Request, workspace: str = in_workspace(WRITE)
) -> WorkflowRunResult | StreamingResponse:
    workflows = _workflows(request)
    await workflows.store.get_record(workspace, workflow_id)  # 404 before any stream
    if not body.stream:
        result = await workflows.run_to_end(
            workspace, workflow_id, body.inputs, query=body.query, user_id=body.user_id
        )
        return WorkflowRunResult.model_validate(result)

    async def events() -> AsyncIterator[str]:
        async for event in workflows.run(
            workspace, workflow_id, body.inputs, query=body.query, user_id=body.user_id
        ):
            yield f"event: {event.type}\ndata: {json.dumps(event.model_dump(mode='json'))}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
