"""The REST API for crews (``/api/crews``): create (validated), list, get, delete, run
(blocking JSON, or the run's events as server-sent events) and read a stored run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.crews.spec import CrewSpec, parse_crew_spec, spec_error
from agents.errors import InvalidInputError
from agents.events import CrewEvent
from channels.rest_api import Workspace, services

router = APIRouter(prefix="/api/crews", tags=["crews"])


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="A value for each of the crew's declared inputs."
    )
    stream: bool = Field(default=False, description="Stream the run's events as SSE.")


def _crews(request: Request) -> Any:
    return services(request).crews


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}", param="body") from exc


@router.post("", status_code=201, summary="Create a crew (a CrewSpec, validated first)")
async def create(request: Request, workspace: str = Workspace) -> Any:
    spec = parse_crew_spec(await _body(request))
    return (await _crews(request).create(workspace, spec)).model_dump(mode="json")


@router.post("/validate", summary="Check a crew spec without storing it")
async def validate(request: Request) -> Any:
    try:
        spec = CrewSpec.model_validate(await _body(request))
    except ValidationError as exc:
        err = spec_error(exc)
        return {"valid": False, "errors": [{"field": err.param, "message": err.message}]}
    problems = [{"field": path, "message": reason} for path, reason in spec.problems()]
    return {"valid": not problems, "errors": problems}


@router.get("", summary="List crews")
async def list_crews(request: Request, workspace: str = Workspace) -> Any:
    records = await _crews(request).list_crews(workspace)
    return {"data": [r.model_dump(mode="json") for r in records]}


@router.get("/runs/{run_id}", summary="A stored crew run")
async def get_run(run_id: str, request: Request, workspace: str = Workspace) -> Any:
    return (await _crews(request).get_run(workspace, run_id)).model_dump(mode="json")


@router.get("/{crew_id}", summary="Get a crew")
async def get_crew(crew_id: str, request: Request, workspace: str = Workspace) -> Any:
    return (await _crews(request).get(workspace, crew_id)).model_dump(mode="json")


@router.delete("/{crew_id}", status_code=204, summary="Delete a crew (its runs are kept)")
async def delete(crew_id: str, request: Request, workspace: str = Workspace) -> Response:
    await _crews(request).delete(workspace, crew_id)
    return Response(status_code=204)


@router.post("/{crew_id}/run", summary="Run a crew (blocking, or streamed as SSE)")
async def run(crew_id: str, body: RunBody, request: Request, workspace: str = Workspace) -> Any:
    crews = _crews(request)
    if not body.stream:
        return await crews.run_to_end(workspace, crew_id, body.inputs)
    events: AsyncIterator[CrewEvent] = crews.run(workspace, crew_id, body.inputs)
    first = await anext(events)  # a missing crew or bad inputs fail here, before the stream

    async def sse() -> AsyncIterator[str]:
        try:
            yield _sse(first)
            async for event in events:
                yield _sse(event)
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(sse(), media_type="text/event-stream")


def _sse(event: CrewEvent) -> str:
    return f"event: {event.type}\ndata: {json.dumps(event.model_dump(mode='json'))}\n\n"
