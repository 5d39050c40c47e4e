"""Accounts over HTTP: login sessions (``/api/auth``), the caller's workspaces and their
members (``/api/workspaces``), API keys (``/api/keys``) and the instance operator's
users and workspaces (``/api/admin``).

A login answers with the tokens in the body (scripts, the CLI: ``Authorization:
Bearer``) and as cookies (browsers): ``chorus_access`` and ``chorus_refresh`` are
HttpOnly, SameSite=Lax and Secure when the request came over TLS; ``chorus_csrf`` is
readable by the page, which echoes it in ``X-CSRF-Token`` on every change.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.accounts.errors import ForbiddenError
from agents.accounts.records import (
    ApiKeyRecord,
    AuditRecord,
    CreatedInvitation,
    CreatedKey,
    InvitationRecord,
    KeyScope,
    MembershipRecord,
    Principal,
    Role,
    SessionTokens,
    UserRecord,
    WorkspaceRecord,
)
from agents.accounts.service import AccountService
from agents.errors import InvalidInputError, UnauthorizedError
from agents.limits import Limits
from channels.auth import (
    ACCESS_COOKIE,
    ADMIN,
    CSRF_COOKIE,
    OPERATOR,
    PUBLIC,
    REFRESH_COOKIE,
    SIGNED_IN,
    Edge,
    actor,
    client_address,
    is_secure,
    requires,
    workspace,
)
from channels.responses import DataList

router = APIRouter(prefix="/api", tags=["accounts"])
_REFRESH_PATH = "/api/auth"


def _accounts(request: Request) -> AccountService:
    return request.app.state.services.accounts  # type: ignore[no-any-return]


def _edge(request: Request) -> Edge:
    return request.app.state.edge  # type: ignore[no-any-return]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(_Body):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshBody(_Body):
    refresh_token: str | None = Field(
        default=None, description="Default: the chorus_refresh cookie."
    )


class PasswordBody(_Body):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class SessionAnswer(BaseModel):
    token_type: Literal["bearer"] = "bearer"
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: UserRecord


class Me(BaseModel):
    user: UserRecord
    workspaces: list[MembershipRecord]


class WorkspaceBody(_Body):
    name: str = Field(min_length=1, max_length=200)
    owner_email: str | None = Field(default=None, description="Default: the operator.")


class MemberBody(_Body):
    email: str = Field(min_length=3, max_length=320, description="An existing user's email.")
    role: Role = "member"


class RoleBody(_Body):
    role: Role


class KeyBody(_Body):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[KeyScope] = Field(default_factory=list, description="Workspace keys.")
    app_id: str | None = Field(default=None, description="An app key: this app only.")
    expires_at: datetime | None = None
    limits: Limits | None = Field(
        default=None, description="Requests per minute, concurrent streams, tokens per day."
    )


class InvitationBody(_Body):
    email: str = Field(min_length=3, max_length=320)
    role: Role = "member"


class AcceptBody(_Body):
    token: str = Field(min_length=8, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(default="", max_length=200, description="A new account's.")


class UserBody(_Body):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = ""
    language: str = "en"
    operator: bool = False


def _client(request: Request) -> str | None:
    return client_address(request)


def _session(request: Request, tokens: SessionTokens) -> JSONResponse:
    """The tokens in the body and as cookies."""
    body = SessionAnswer(
        access_token=tokens.access_token,
        access_expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
        user=tokens.user,
    )
    response = JSONResponse(body.model_dump(mode="json"))
    secure = is_secure(request)
    response.set_cookie(
        ACCESS_COOKIE,
        tokens.access_token,
        expires=tokens.access_expires_at,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        expires=tokens.refresh_expires_at,
        path=_REFRESH_PATH,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(24),
        expires=tokens.refresh_expires_at,
        secure=secure,
        samesite="lax",
    )
    return response


# -- login sessions ---------------------------------------------------------------------


@router.post("/auth/login", summary="Log in; tokens in the body and as cookies")
async def login(body: LoginBody, request: Request, _: None = requires(PUBLIC)) -> JSONResponse:
    tokens = await _accounts(request).login(body.email, body.password, client=_client(request))
    return _session(request, tokens)


@router.post("/auth/refresh", summary="A new token pair for a refresh token (used up)")
async def refresh(body: RefreshBody, request: Request, _: None = requires(PUBLIC)) -> JSONResponse:
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise UnauthorizedError("no refresh token (body or chorus_refresh cookie)")
    try:
        tokens = await _accounts(request).refresh(token)
    except UnauthorizedError:
        _edge(request).forget()  # a reused token ended its session: refuse its access now
        raise
    return _session(request, tokens)


@router.post("/auth/logout", status_code=204, summary="End the refresh token's login session")
async def logout(body: RefreshBody, request: Request, _: None = requires(PUBLIC)) -> Response:
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if token:
        await _accounts(request).logout(token)
        _edge(request).forget()
    response = Response(status_code=204)
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, _REFRESH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path)
    return response


@router.get("/auth/me", summary="The signed-in user and their workspaces")
async def me(request: Request, who: Principal = requires(SIGNED_IN)) -> Me:
    assert who.user_id is not None
    accounts = _accounts(request)
    return Me(
        user=await accounts.store.get_user(who.user_id),
        workspaces=await accounts.store.list_memberships(who.user_id),
    )


@router.post("/auth/password", status_code=204, summary="Change your password")
async def change_password(
    body: PasswordBody, request: Request, who: Principal = requires(SIGNED_IN)
) -> Response:
    assert who.user_id is not None
    session_id = None
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() or request.cookies.get(ACCESS_COOKIE, "")
    if token:
        session_id = _accounts(request).signer.check(token).session_id
    await _accounts(request).change_password(
        who.user_id,
        body.current_password,
        body.new_password,
        session_id=session_id,
        actor=actor(request),
    )
    _edge(request).forget()
    return Response(status_code=204)


# -- workspaces and members -------------------------------------------------------------


@router.get("/workspaces", summary="Your workspaces", response_model_by_alias=False)
async def my_workspaces(
    request: Request, who: Principal = requires(SIGNED_IN)
) -> DataList[MembershipRecord]:
    assert who.user_id is not None
    return DataList(data=await _accounts(request).store.list_memberships(who.user_id))


@router.get("/members", summary="The workspace's members", response_model_by_alias=False)
async def members(request: Request, ws: str = workspace(ADMIN)) -> DataList[MembershipRecord]:
    return DataList(data=await _accounts(request).store.list_members(ws))


async def _owner_only(request: Request, ws: str, role: Role | None) -> None:
    """Only owners make owners (an admin cannot promote anyone above themselves)."""
    if role != "owner":
        return
    who: Principal | None = request.scope.get("chorus.principal")
    if who is None or who.kind != "user" or who.role != "owner":
        raise ForbiddenError("only an owner can make or unmake owners")


@router.post("/members", status_code=201, summary="Add a user to the workspace")
async def add_member(
    body: MemberBody, request: Request, ws: str = workspace(ADMIN)
) -> MembershipRecord:
    await _owner_only(request, ws, body.role)
    accounts = _accounts(request)
    found = await accounts.store.find_user(body.email)
    if found is None:
        raise InvalidInputError("no user has this email", param="email")
    added = await accounts.set_member(ws, found[0].id, body.role, actor=actor(request))
    _edge(request).forget()
    return added


@router.patch("/members/{user_id}", summary="Change a member's role")
async def set_role(
    user_id: str, body: RoleBody, request: Request, ws: str = workspace(ADMIN)
) -> MembershipRecord:
    accounts = _accounts(request)
    current = await accounts.store.get_member(ws, user_id)
    if current is None:
        from agents.accounts.store import user_not_found

        raise user_not_found()
    await _owner_only(request, ws, "owner" if "owner" in (body.role, current.role) else None)
    changed = await accounts.set_member(ws, user_id, body.role, actor=actor(request))
    _edge(request).forget()
    return changed


@router.delete("/members/{user_id}", status_code=204, summary="Remove a member")
async def remove_member(user_id: str, request: Request, ws: str = workspace(ADMIN)) -> Response:
    accounts = _accounts(request)
    current = await accounts.store.get_member(ws, user_id)
    await _owner_only(request, ws, current.role if current else None)
    await accounts.remove_member(ws, user_id, actor=actor(request))
    _edge(request).forget()
    return Response(status_code=204)


# -- API keys ---------------------------------------------------------------------------


@router.get("/keys", summary="The workspace's API keys (never their secrets)")
async def list_keys(request: Request, ws: str = workspace(ADMIN)) -> DataList[ApiKeyRecord]:
    return DataList(data=await _accounts(request).list_keys(ws))


@router.post("/keys", status_code=201, summary="Create a key; its secret is shown this once")
async def create_key(body: KeyBody, request: Request, ws: str = workspace(ADMIN)) -> CreatedKey:
    who: Principal | None = request.scope.get("chorus.principal")
    if body.app_id is not None:
        await request.app.state.services.stores.conversations.get_app(ws, body.app_id)
    return await _accounts(request).create_key(
        ws,
        body.name,
        scopes=body.scopes,
        app_id=body.app_id,
        expires_at=body.expires_at,
        created_by=who.user_id if who else None,
        actor=actor(request),
        limits=body.limits,
    )


@router.delete("/keys/{key_id}", summary="Revoke a key")
async def revoke_key(key_id: str, request: Request, ws: str = workspace(ADMIN)) -> ApiKeyRecord:
    revoked = await _accounts(request).revoke_key(ws, key_id, actor=actor(request))
    _edge(request).forget()
    return revoked


# -- invitations ----------------------------------------------------------------------


@router.get("/invitations", summary="The workspace's open invitations")
async def list_invitations(
    request: Request, ws: str = workspace(ADMIN)
) -> DataList[InvitationRecord]:
    return DataList(data=await _accounts(request).list_invitations(ws))


@router.post(
    "/invitations", status_code=201, summary="Invite by email; the link is shown this once"
)
async def invite(
    body: InvitationBody, request: Request, ws: str = workspace(ADMIN)
) -> CreatedInvitation:
    await _owner_only(request, ws, body.role)
    made = await _accounts(request).invite(ws, body.email, body.role, actor=actor(request))
    link = f"{str(request.base_url).rstrip('/')}/invite/{made.token}"
    return made.model_copy(update={"link": link})


@router.delete("/invitations/{invitation_id}", summary="Revoke an invitation")
async def revoke_invitation(
    invitation_id: str, request: Request, ws: str = workspace(ADMIN)
) -> InvitationRecord:
    return await _accounts(request).revoke_invitation(ws, invitation_id, actor=actor(request))


@router.post("/invitations/accept", summary="Accept an invitation; logs you in")
async def accept_invitation(
    body: AcceptBody, request: Request, _: None = requires(PUBLIC)
) -> JSONResponse:
    """With the password of the invited email's account, or, when that email has no
    account yet, the password (and name) of the account it makes."""
    _member, tokens = await _accounts(request).accept_invitation(
        body.token, body.password, display_name=body.display_name, client=_client(request)
    )
    _edge(request).forget()
    return _session(request, tokens)


# -- the audit log ----------------------------------------------------------------------


@router.get("/audit", summary="The workspace's audit log, newest first")
async def workspace_audit(
    request: Request,
    before: datetime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    ws: str = workspace(ADMIN),
) -> DataList[AuditRecord]:
    """Logins of its members, keys, members and roles, invitations, secret updates."""
    return DataList(data=await _accounts(request).store.list_audit(ws, before=before, limit=limit))


# -- the instance operator --------------------------------------------------------------


@router.get("/admin/users", summary="Every user of the instance")
async def list_users(request: Request, _: Principal = requires(OPERATOR)) -> DataList[UserRecord]:
    return DataList(data=await _accounts(request).store.list_users())


@router.post("/admin/users", status_code=201, summary="Create a user")
async def create_user(
    body: UserBody, request: Request, _: Principal = requires(OPERATOR)
) -> UserRecord:
    return await _accounts(request).create_user(
        body.email,
        body.password,
        body.display_name,
        language=body.language,
        operator=body.operator,
        actor=actor(request),
    )


@router.post("/admin/workspaces", status_code=201, summary="Create a workspace")
async def create_workspace(
    body: WorkspaceBody, request: Request, who: Principal = requires(OPERATOR)
) -> WorkspaceRecord:
    accounts = _accounts(request)
    owner = who.user_id
    if body.owner_email is not None:
        found = await accounts.store.find_user(body.owner_email)
        if found is None:
            raise InvalidInputError("no user has this email", param="owner_email")
        owner = found[0].id
    assert owner is not None
    return await accounts.create_workspace(body.name, owner, actor=actor(request))


@router.get("/admin/audit", summary="The instance's audit log (logins, users, workspaces)")
async def instance_audit(
    request: Request,
    before: datetime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    _: Principal = requires(OPERATOR),
) -> DataList[AuditRecord]:
    return DataList(
        data=await _accounts(request).store.list_audit(None, before=before, limit=limit)
    )
