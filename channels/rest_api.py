"""The REST API for apps, conversations and debug chat (``/api``).

Every request runs in the workspace of its principal (:mod:`channels.auth`): reading
needs READ, changing apps WRITE, and conversations CHAT (an app key of the app will do,
confined to that app's conversations, and so will the app's end users and members,
confined to their own).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from agents import error_codes
from agents.apps.spec import AppSpec, export_spec, parse_spec
from agents.conversation.records import (
    AppRecord,
    AppVersionRecord,
    ConversationRecord,
    MessageRecord,
    PromptRecord,
)
from agents.conversation.store import ConversationStoreProtocol
from agents.errors import InvalidInputError, NotFoundError
from agents.events import ConversationStarted, Event
from agents.ids import new_id
from channels.auth import CHAT, READ, USE, WRITE, confine_to_app, principal
from channels.auth import workspace as in_workspace
from channels.limits import TurnLimits
from channels.responses import DataList
from channels.webapp_api import end_user_may_chat
from cluster.limits import metered
from cluster.runtime import Services
from cluster.sessions.session_router import SessionRouter

router = APIRouter(prefix="/api", tags=["apps"])


def _store(request: Request) -> ConversationStoreProtocol:
    return services(request).stores.conversations


def sessions(request: Request) -> SessionRouter:
    return request.app.state.sessions  # type: ignore[no-any-return]


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    app_id: str = Field(description="App to talk to (its published version).")
    inputs: dict[str, str] = Field(default_factory=dict, description="System prompt variables.")
    user_id: str | None = Field(default=None, description="End-user id.")


class MessageBody(_Body):
    content: str = Field(min_length=1, description="The user's message.")
    stream: bool = Field(default=True, description="Server-sent events, or one JSON list.")


class DebugBody(_Body):
    content: str = Field(min_length=1, description="The user's message.")
    spec: AppSpec | None = Field(
        default=None, description="The unsaved draft to run; default: the saved draft."
    )
    conversation_id: str | None = Field(
        default=None, description="Continue this debug conversation; default: a new one."
    )
    inputs: dict[str, str] = Field(default_factory=dict, description="System prompt variables.")
    stream: bool = Field(default=True, description="Server-sent events, or one JSON list.")


class RenameBody(_Body):
    title: str = Field(min_length=1, max_length=200, description="New title.")


class StopResult(BaseModel):
    stopped: bool = Field(description="Whether an answer was streaming and is now stopped.")


# -- apps ------------------------------------------------------------------------------


@router.post(
    "/apps", status_code=201, summary="Create an app from a spec", response_model_by_alias=False
)
async def create_app(request: Request, workspace: str = in_workspace(WRITE)) -> AppRecord:
    spec = parse_spec(await _spec_body(request))
    return await _store(request).create_app(workspace, spec)


@router.get("/apps", summary="List apps", response_model_by_alias=False)
async def list_apps(request: Request, workspace: str = in_workspace(READ)) -> DataList[AppRecord]:
    return DataList(data=await _store(request).list_apps(workspace))


@router.get("/apps/{app_id}", summary="Get an app", response_model_by_alias=False)
async def get_app(app_id: str, request: Request, workspace: str = in_workspace(READ)) -> AppRecord:
    return await _store(request).get_app(workspace, app_id)


@router.put("/apps/{app_id}", summary="Replace the app's draft spec", response_model_by_alias=False)
async def update_app(
    app_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> AppRecord:
    spec = parse_spec(await _spec_body(request))
    return await _store(request).update_draft(workspace, app_id, spec)


@router.delete("/apps/{app_id}", status_code=204, summary="Delete an app")
async def delete_app(
    app_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> Response:
    await _store(request).delete_app(workspace, app_id)
    return Response(status_code=204)


@router.post(
    "/apps/{app_id}/publish",
    summary="Publish the draft as a new version",
    response_model_by_alias=False,
)
async def publish_app(
    app_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> AppVersionRecord:
    return await _store(request).publish(workspace, app_id)


@router.get("/apps/{app_id}/export", summary="Export the draft as YAML or JSON")
async def export_app(
    app_id: str,
    request: Request,
    format: Literal["yaml", "json"] = Query(default="yaml"),
    workspace: str = in_workspace(READ),
) -> Response:
    app = await _store(request).get_app(workspace, app_id)
    media = "application/yaml" if format == "yaml" else "application/json"
    return PlainTextResponse(export_spec(app.draft, format), media_type=media)


@router.post(
    "/apps/import",
    status_code=201,
    summary="Create an app from YAML or JSON text",
    response_model_by_alias=False,
)
async def import_app(request: Request, workspace: str = in_workspace(WRITE)) -> AppRecord:
    text = (await request.body()).decode("utf-8", "replace")
    fmt = "json" if "json" in request.headers.get("content-type", "") else "yaml"
    spec = parse_spec(text, fmt=fmt)
    return await _store(request).create_app(workspace, spec)


@router.post("/apps/{app_id}/debug-chat", summary="Chat with the unsaved draft")
async def debug_chat(
    app_id: str, body: DebugBody, request: Request, workspace: str = in_workspace(WRITE)
) -> Response:
    svc = services(request)
    spec = body.spec or (await svc.stores.conversations.get_app(workspace, app_id)).draft
    conversation_id = body.conversation_id
    head: list[Event] = []
    if conversation_id is None:
        conversation_id = new_id("conv")
        head.append(
            await sessions(request).start(
                workspace, app_id, conversation_id, inputs=body.inputs, draft=spec
            )
        )
    events = sessions(request).send(workspace, conversation_id, body.content, spec)
    return await _respond(head, events, body.stream)


# -- conversations ---------------------------------------------------------------------


async def _confined(request: Request, workspace: str, conversation_id: str) -> None:
    """An app key or an end user reaches its own app's conversations only, and an end
    user or a member their own (others are 'not found')."""
    who = principal(request)
    if who is None or (who.app_id is None and who.owner() is None):
        return
    conversation = await _store(request).get_conversation(workspace, conversation_id)
    if (who.app_id is not None and conversation.app_id != who.app_id) or (
        who.owner() is not None and conversation.user_id != who.owner()
    ):
        raise NotFoundError("no such conversation", code=error_codes.CONVERSATION_NOT_FOUND)


@router.post(
    "/conversations",
    status_code=201,
    summary="Start a conversation",
    response_model_by_alias=False,
)
async def start_conversation(
    body: StartBody, request: Request, workspace: str = in_workspace(CHAT)
) -> ConversationStarted:
    who = principal(request)
    confine_to_app(who, body.app_id)
    if who is not None:
        await end_user_may_chat(services(request), who)
    owner = who.owner() if who is not None else None
    return await sessions(request).start(
        workspace, body.app_id, new_id("conv"), inputs=body.inputs, user_id=owner or body.user_id
    )


@router.get("/conversations", summary="List conversations", response_model_by_alias=False)
async def list_conversations(
    request: Request,
    app_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    workspace: str = in_workspace(CHAT),
) -> DataList[ConversationRecord]:
    who = principal(request)
    if who is not None and who.app_id is not None:  # an app key sees its app's only
        confine_to_app(who, app_id or who.app_id)
        app_id = who.app_id
    owner = who.owner() if who is not None else None  # an end user or member: their own
    found = await _store(request).list_conversations(workspace, app_id, limit, user_id=owner)
    return DataList(data=found)


@router.get(
    "/conversations/{conversation_id}/messages",
    summary="A conversation's history",
    response_model_by_alias=False,
)
async def history(
    conversation_id: str, request: Request, workspace: str = in_workspace(CHAT)
) -> DataList[MessageRecord]:
    await _confined(request, workspace, conversation_id)
    return DataList(data=await _store(request).list_messages(workspace, conversation_id))


@router.get(
    "/conversations/{conversation_id}/prompts",
    summary="What was sent to the model",
    response_model_by_alias=False,
)
async def prompts(
    conversation_id: str, request: Request, workspace: str = in_workspace(USE)
) -> DataList[PromptRecord]:
    await _confined(request, workspace, conversation_id)
    return DataList(data=await _store(request).list_prompts(workspace, conversation_id))


@router.patch(
    "/conversations/{conversation_id}",
    summary="Rename a conversation",
    response_model_by_alias=False,
)
async def rename(
    conversation_id: str, body: RenameBody, request: Request, workspace: str = in_workspace(CHAT)
) -> ConversationRecord:
    await _confined(request, workspace, conversation_id)
    return await _store(request).rename_conversation(workspace, conversation_id, body.title)


@router.delete("/conversations/{conversation_id}", status_code=204, summary="Delete")
async def delete_conversation(
    conversation_id: str, request: Request, workspace: str = in_workspace(CHAT)
) -> Response:
    svc = services(request)
    await _confined(request, workspace, conversation_id)
    await svc.stores.conversations.delete_conversation(workspace, conversation_id)
    await sessions(request).forget(conversation_id)
    return Response(status_code=204)


@router.post("/conversations/{conversation_id}/messages", summary="Send a message (SSE)")
async def send_message(
    conversation_id: str, body: MessageBody, request: Request, workspace: str = in_workspace(CHAT)
) -> Response:
    conversation = await _store(request).get_conversation(workspace, conversation_id)  # 404 first
    await _confined(request, workspace, conversation_id)
    limits: TurnLimits | None = getattr(request.app.state, "limits", None)
    who = principal(request)
    lease = await limits.turn(who, workspace, conversation.app_id) if limits else None
    events = metered(sessions(request).send(workspace, conversation_id, body.content), lease)
    return await _respond([], events, body.stream)


@router.post("/conversations/{conversation_id}/stop", summary="Stop the streaming answer")
async def stop(
    conversation_id: str, request: Request, workspace: str = in_workspace(CHAT)
) -> StopResult:
    await _confined(request, workspace, conversation_id)
    await _store(request).get_conversation(workspace, conversation_id)
    return StopResult(stopped=await sessions(request).stop(conversation_id))


# -- helpers ---------------------------------------------------------------------------


async def json_body(request: Request) -> JsonValue:
    """The request's JSON body (any JSON value); a 400 when it is not JSON."""
    try:
        body: JsonValue = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}", param="body") from exc
    return body


async def _spec_body(request: Request) -> dict[str, JsonValue] | str:
    """An app spec's JSON body as :func:`parse_spec` takes it (an object, or a JSON
    string of the spec's text); anything else is refused as ``parse_spec`` refuses it."""
    body = await json_body(request)
    if isinstance(body, dict | str):
        return body
    raise InvalidInputError("the spec must be an object")


async def _respond(head: list[Event], events: AsyncIterator[Event], stream: bool) -> Response:
    if not stream:
        collected = [e.model_dump(mode="json") for e in head]
        collected += [e.model_dump(mode="json") async for e in events]
        return JSONResponse({"events": collected})

    async def sse() -> AsyncIterator[bytes]:
        for event in head:
            yield _sse(event)
        async for event in events:
            yield _sse(event)

    return StreamingResponse(sse(), media_type="text/event-stream")


def _sse(event: Event) -> bytes:
    return f"event: {event.type}\ndata: {event.model_dump_json()}\n\n".encode()
