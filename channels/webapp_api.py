"""A published app's end users: who may chat with it (``access``), and the end-user
session its page starts with.

An app is ``private`` (the workspace's members only) or ``public`` (anyone with its
link). ``POST /api/chat/{app_id}/session`` gives a short-lived end-user token
(``end-…``) for that one app: for a signed-in user (bearer or cookie) the end user is
their account, so their conversations follow them across devices; for anyone else on
a public app it is an anonymous end user whose id is kept in the ``chorus_end_user``
cookie (HttpOnly, a year), stable per browser. An end user reaches only its app, and
only its own conversations (:meth:`Principal.owner`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from agents import error_codes
from agents.accounts.records import Principal, user_owner
from agents.conversation.records import AppAccess, AppRecord
from agents.errors import NotFoundError, UnauthorizedError
from agents.ids import utcnow
from agents.limits import Limits
from channels.auth import ANYONE, WRITE, is_secure, requires, resolve
from channels.auth import workspace as in_workspace
from cluster.runtime import Services

router = APIRouter(prefix="/api", tags=["end users"])
END_USER_COOKIE = "chorus_end_user"
END_USER_TTL = timedelta(hours=24)
_COOKIE_DAYS = 365


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


class AccessBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    access: AppAccess


class EndUserSession(BaseModel):
    token_type: Literal["bearer"] = "bearer"
    token: str = Field(description="Send as Authorization: Bearer to this app's chat routes.")
    expires_at: str
    end_user_id: str
    app_id: str
    access: AppAccess
    signed_in: bool = Field(description="The end user is a signed-in account.")


def _app_not_found(app_id: str) -> NotFoundError:
    return NotFoundError(f"app '{app_id}' not found", code=error_codes.APP_NOT_FOUND)


async def end_user_may_chat(services: Services, who: Principal) -> AppRecord | None:
    """For an end user: its app, still published, and still open to it (a public app,
    or a member of a private one's workspace); 404 otherwise. None for other callers."""
    if who.kind != "end_user":
        return None
    assert who.workspace_id is not None and who.app_id is not None  # in the token
    app = await services.stores.conversations.get_app(who.workspace_id, who.app_id)
    if app.published_version is None:
        raise _app_not_found(who.app_id)
    if app.access == "private" and (
        who.user_id is None
        or await services.accounts.store.get_member(who.workspace_id, who.user_id) is None
    ):
        raise _app_not_found(who.app_id)
    return app


@router.put("/apps/{app_id}/access", summary="Make the published app public or private")
async def set_access(
    app_id: str, body: AccessBody, request: Request, workspace: str = in_workspace(WRITE)
) -> AppRecord:
    return await _services(request).stores.conversations.set_access(workspace, app_id, body.access)


class LimitsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: Limits | None = Field(default=None, description="Over every caller of the app.")
    end_user_limits: Limits | None = Field(default=None, description="Each end user's.")


@router.put("/apps/{app_id}/limits", summary="The app's rate limits and daily token quota")
async def set_limits(
    app_id: str, body: LimitsBody, request: Request, workspace: str = in_workspace(WRITE)
) -> AppRecord:
    """Requests per minute, concurrent streams and tokens per day, for the whole app and
    for each end user (null: none). In force on every gateway replica within seconds."""
    changed = await _services(request).stores.conversations.set_limits(
        workspace,
        app_id,
        body.limits if body.limits is not None and body.limits.any() else None,
        body.end_user_limits
        if body.end_user_limits is not None and body.end_user_limits.any()
        else None,
    )
    limits = getattr(request.app.state, "limits", None)
    if limits is not None:
        limits.forget(workspace, app_id)
    return changed


@router.post("/chat/{app_id}/session", summary="An end-user session for a published app")
async def end_user_session(
    app_id: str, request: Request, _: None = requires(ANYONE)
) -> JSONResponse:
    services = _services(request)
    app = await services.stores.conversations.find_app(app_id)
    if app is None or app.published_version is None:
        raise _app_not_found(app_id)
    who = await resolve(request)  # optional: a signed-in user chats as their account
    user_id = who.user_id if who is not None and who.kind == "user" else None
    if app.access == "private":
        if user_id is None:
            raise UnauthorizedError("log in to chat with this app")
        if await services.accounts.store.get_member(app.workspace_id, user_id) is None:
            raise _app_not_found(app_id)  # its existence is not confirmed
    anonymous = request.cookies.get(END_USER_COOKIE) or ""
    if user_id is None and not (20 <= len(anonymous) <= 64 and anonymous.isascii()):
        anonymous = secrets.token_urlsafe(24)
    end_user_id = user_owner(user_id) if user_id is not None else f"anon-{anonymous}"
    now = utcnow()
    token = services.accounts.signer.sign_end_user(
        app.workspace_id, app.id, end_user_id, now, END_USER_TTL, user_id=user_id
    )
    body = EndUserSession(
        token=token,
        expires_at=(now + END_USER_TTL).isoformat(),
        end_user_id=end_user_id,
        app_id=app.id,
        access=app.access,
        signed_in=user_id is not None,
    )
    response = JSONResponse(body.model_dump(mode="json"))
    if user_id is None:
        response.set_cookie(
            END_USER_COOKIE,
            anonymous,
            max_age=_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            secure=is_secure(request),
            samesite="lax",
        )
    return response
