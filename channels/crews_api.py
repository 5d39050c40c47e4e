"""The REST API for crews (``/api/crews``): create (validated), list, get, delete, run
(blocking JSON, or the run's events as server-sent events) and read a stored run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.crews.records import CrewRecord, CrewRunRecord
from agents.crews.service import CrewService
from agents.crews.spec import CrewSpec, parse_crew_spec, spec_error
from agents.events import CrewEvent
from channels.auth import READ, WRITE, requires
from channels.auth import workspace as in_workspace
from channels.responses import DataList
from channels.rest_api import json_body, services

router = APIRouter(prefix="/api/crews", tags=["crews"])


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="A value for each of the crew's declared inputs."
    )
    stream: bool = Field(default=False, description="Stream the run's events as SSE.")


class SpecProblem(BaseModel):
    field: str | None = Field(description="Where in the spec, as a dotted path.")
    message: str = Field(description="What is wrong there.")


class SpecCheck(BaseModel):
    valid: bool = Field(description="Whether the spec can be stored as it is.")
    errors: list[SpecProblem] = Field(description="What is wrong with it, if anything.")


class CrewRunError(BaseModel):
    code: str = Field(description="The error's stable code.")
    message: str = Field(description="What went wrong.")
    details: dict[str, Any] = Field(description="More about it (JSON).")


class CrewRunResult(BaseModel):
    """A blocking run's outcome (the stored run has the rest)."""

    run_id: str = Field(description="The run, as stored.")
    crew_id: str = Field(description="The crew.")
    status: Literal["succeeded", "failed"] = Field(description="How the run ended.")
    outputs: dict[str, str] = Field(description="Each finished task's output, by task id.")
    final_output: str = Field(description="The crew's answer.")
    error: CrewRunError | None = Field(description="failed: the error.")
    elapsed_ms: float = Field(description="The whole run.")
    total_tokens: int = Field(description="Tokens used by every model call.")


def _crews(request: Request) -> CrewService:
    return services(request).crews


@router.post(
    "",
    status_code=201,
    summary="Create a crew (a CrewSpec, validated first)",
    response_model_by_alias=False,
)
async def create(request: Request, workspace: str = in_workspace(WRITE)) -> CrewRecord:
    spec = parse_crew_spec(await json_body(request))
    return await _crews(request).create(workspace, spec)


@router.post(
    "/validate", dependencies=[requires(READ)], summary="Check a crew spec without storing it"
)
async def validate(request: Request) -> SpecCheck:
    try:
        spec = CrewSpec.model_validate(await json_body(request))
    except ValidationError as exc:
        err = spec_error(exc)
        return SpecCheck(valid=False, errors=[SpecProblem(field=err.param, message=err.message)])
    problems = [SpecProblem(field=path, message=reason) for path, reason in spec.problems()]
    return SpecCheck(valid=not problems, errors=problems)


@router.get("", summary="List crews", response_model_by_alias=False)
async def list_crews(request: Request, workspace: str = in_workspace(READ)) -> DataList[CrewRecord]:
    return DataList(data=await _crews(request).list_crews(workspace))


@router.get("/runs/{run_id}", summary="A stored crew run", response_model_by_alias=False)
async def get_run(
    run_id: str, request: Request, workspace: str = in_workspace(READ)
) -> CrewRunRecord:
    return await _crews(request).get_run(workspace, run_id)


@router.get("/{crew_id}", summary="Get a crew", response_model_by_alias=False)
async def get_crew(
    crew_id: str, request: Request, workspace: str = in_workspace(READ)
) -> CrewRecord:
    return await _crews(request).get(workspace, crew_id)


@router.delete("/{crew_id}", status_code=204, summary="Delete a crew (its runs are kept)")
async def delete(crew_id: str, request: Request, workspace: str = in_workspace(WRITE)) -> Response:
    await _crews(request).delete(workspace, crew_id)
    return Response(status_code=204)


@router.post(
    "/{crew_id}/run",
    summary="Run a crew (blocking, or streamed as SSE)",
    response_model=CrewRunResult,
    response_model_by_alias=False,
)
async def run(
    crew_id: str, body: RunBody, request: Request, workspace: str = in_workspace(WRITE)
) -> CrewRunResult | StreamingResponse:
    crews = _crews(request)
    if not body.stream:
        result = await crews.run_to_end(workspace, crew_id, body.inputs)
        return CrewRunResult.model_validate(result)
    events = crews.run(workspace, crew_id, body.inputs)
    first = await anext(events)  # a missing crew or bad inputs fail here, before the stream

    async def sse() -> AsyncIterator[str]:
        try:
            yield _sse(first)
            async for event in events:
                yield _sse(event)
        finally:
            # CrewService.run is an async generator, typed as the iterator it returns.
            await events.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(sse(), media_type="text/event-stream")


def _sse(event: CrewEvent) -> str:
    return f"event: {event.type}\ndata: {json.dumps(event.model_dump(mode='json'))}\n\n"
