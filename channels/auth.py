"""Who is calling, and may they: the one place a request's principal is resolved
(DESIGN decision 7), and the policies routes declare.

A credential arrives as ``Authorization: Bearer <token>`` (an access token from a
login, a workspace key ``ck-…``, an app key ``app-…``, or the server's own short-lived
internal credential ``int-…``), or, from a browser, as the ``chorus_access`` cookie,
in which case a state-changing request must also echo the ``chorus_csrf`` cookie in
the ``X-CSRF-Token`` header (double-submit). A user picks the workspace to act in
with ``X-Workspace-Id`` (default: their first), and must be a member of it; a key or
an internal credential acts in its own workspace, whatever the header says.

Every route declares one policy through :func:`principal` or :func:`workspace`
(``workspace: str = workspace(WRITE)``); the authorization-matrix test walks the
route table and fails on a route without one. Authorization runs before the body is
read, so a refused caller learns nothing from validation errors.
"""

# No "from __future__ import annotations": the dependencies below are closures that
# cloudpickle ships to the gateway replica by value, with only the globals their bodies
# use; FastAPI must find their parameters' real types (HTTPConnection), not names.
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, WebSocketException
from starlette.requests import HTTPConnection, Request

from agents import error_codes
from agents.accounts.errors import ForbiddenError
from agents.accounts.records import Actor, KeyScope, Principal, Role, role_allows
from agents.accounts.secrets import END_USER_PREFIX, INTERNAL_PREFIX
from agents.accounts.service import APP_KEY_PREFIX, WORKSPACE_KEY_PREFIX, AccountService
from agents.errors import ChorusError, NotFoundError, UnauthorizedError

ACCESS_COOKIE = "chorus_access"
REFRESH_COOKIE = "chorus_refresh"
CSRF_COOKIE = "chorus_csrf"
CSRF_HEADER = "x-csrf-token"
WORKSPACE_HEADER = "x-workspace-id"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The websocket close codes of a refused upgrade (HTTP 401 and 403, as 4xxx).
WS_UNAUTHORIZED, WS_FORBIDDEN, WS_RATE_LIMITED = 4401, 4403, 4429


@dataclass(frozen=True)
class Policy:
    """Who may call a route. ``roles``: the least role of a user in the workspace;
    ``scopes``: workspace-key scopes, any of which will do; ``app_keys``: an app key
    may call it (the route then confines it to its app); ``end_users``: so may an end
    user of an app (confined to the app and their own conversations); ``internal``:
    the server's own credential may; ``anonymous``: no credential is needed."""

    name: str
    role: Role | None = None
    scopes: frozenset[KeyScope] = field(default_factory=frozenset)
    app_keys: bool = False
    end_users: bool = False
    internal: bool = False
    anonymous: bool = False
    signed_in: bool = False
    operator: bool = False

    def check(self, who: Principal | None) -> None:
        """Nothing, or the 401/403 this caller gets."""
        if self.anonymous:
            return
        if who is None:
            raise UnauthorizedError(
                "authentication required: send Authorization: Bearer <access token or key>"
            )
        if self._allows(who):
            return
        raise ForbiddenError(self._needs(), details={"policy": self.name})

    def admits(self, who: Principal | None) -> bool:
        """Whether this caller may (without raising)."""
        return self.anonymous or (who is not None and self._allows(who))

    def _allows(self, who: Principal) -> bool:
        if self.operator:
            return who.kind == "user" and who.operator
        if who.kind == "user":
            if self.signed_in:
                return True
            return (
                self.role is not None
                and who.role is not None
                and who.workspace_id is not None
                and role_allows(who.role, self.role)
            )
        if who.kind == "workspace_key":
            return bool(self.scopes & set(who.scopes))
        if who.kind == "app_key":
            return self.app_keys
        if who.kind == "end_user":
            return self.end_users
        return who.kind == "internal" and self.internal

    def _needs(self) -> str:
        if self.operator:
            return "this needs an instance operator"
        if self.signed_in:
            return "this needs a signed-in user, not a key"
        parts = []
        if self.role is not None:
            parts.append(f"the role '{self.role}' or higher")
        if self.scopes:
            parts.append("a workspace key with scope " + " or ".join(sorted(self.scopes)))
        if self.app_keys:
            parts.append("an app key of this app")
        if self.end_users:
            parts.append("an end user of this app")
        return "this needs " + (", or ".join(parts) or "a different credential")


_READ_SCOPES: frozenset[KeyScope] = frozenset({"read", "write", "admin"})
_WRITE_SCOPES: frozenset[KeyScope] = frozenset({"write", "admin"})
_ADMIN_SCOPES: frozenset[KeyScope] = frozenset({"admin"})
#: Open to anyone (health, login).
PUBLIC = Policy("public", anonymous=True)
#: Open to anyone; a credential, when one is sent, must be valid (the route may use it).
ANYONE = Policy("anyone", anonymous=True)
#: A logged-in user, in any workspace or none (their own account).
SIGNED_IN = Policy("signed_in", signed_in=True)
#: Read a workspace's things: members; workspace keys of any scope.
READ = Policy("read", role="member", scopes=_READ_SCOPES, internal=True)
#: Talk to a workspace's published apps: READ's callers and the app's own keys.
USE = Policy("use", role="member", scopes=_READ_SCOPES, app_keys=True, internal=True)
#: Chat with a published app: USE's callers and the app's end users (their own
#: conversations only).
CHAT = Policy(
    "chat", role="member", scopes=_READ_SCOPES, app_keys=True, end_users=True, internal=True
)
#: Create and change apps, workflows, knowledge, tools and crews: editors; write keys.
WRITE = Policy("write", role="editor", scopes=_WRITE_SCOPES, internal=True)
#: Members, keys and channels: admins; admin keys.
ADMIN = Policy("admin", role="admin", scopes=_ADMIN_SCOPES)
#: The instance operator.
OPERATOR = Policy("operator", operator=True)


async def authorize(
    conn: HTTPConnection, policy: Policy, *, workspace: bool = False
) -> Principal | None:
    """The caller's principal if ``policy`` admits it (and, with ``workspace``, it acts
    in one); else the 401/403, or on a websocket a refused upgrade with that reason."""
    if policy.anonymous and not workspace:  # credentials are not looked at
        return None
    try:
        _check_origin(conn)
        who = await resolve(conn)
        policy.check(who)
        if workspace and (who is None or who.workspace_id is None):
            raise ForbiddenError("this needs a workspace; you are a member of none")
        limits = getattr(conn.app.state, "limits", None)
        if limits is not None:  # a key's requests per minute, on every replica at once
            await limits.request(who)
    except ChorusError as exc:
        if conn.scope["type"] == "websocket":
            close = {403: WS_FORBIDDEN, 429: WS_RATE_LIMITED}.get(exc.status_code, WS_UNAUTHORIZED)
            raise WebSocketException(close, reason=exc.code) from exc
        raise
    return who


def requires(policy: Policy | Callable[[HTTPConnection], Policy]) -> Any:
    """A dependency that authorizes the caller by ``policy`` (or by the policy a
    function of the request picks, for settings-dependent ones) and gives the
    :class:`Principal` (None only for a public route's anonymous caller)."""

    async def principal_by_policy(conn: HTTPConnection) -> Principal | None:
        return await authorize(conn, policy(conn) if callable(policy) else policy)

    principal_by_policy.chorus_policy = policy  # type: ignore[attr-defined]
    return Depends(principal_by_policy)


def workspace(policy: Policy) -> Any:
    """:func:`requires`, giving the workspace id the caller acts in."""

    async def workspace_id(conn: HTTPConnection) -> str:
        who = await authorize(conn, policy, workspace=True)
        assert who is not None and who.workspace_id is not None  # authorize made sure
        return who.workspace_id

    workspace_id.chorus_policy = policy  # type: ignore[attr-defined]
    return Depends(workspace_id)


def confine_to_app(who: Principal | None, app_id: str) -> None:
    """An app key or an end user talks to its own app only (another app is 'not found'
    to it)."""
    if who is not None and who.app_id is not None and who.app_id != app_id:
        raise NotFoundError("no such app", code=error_codes.APP_NOT_FOUND, param="app_id")


def _check_origin(conn: HTTPConnection) -> None:
    """A browser opening the websocket must do so from the server's own origin or an
    allowed one (cookies would otherwise let any page act as its user). Clients that
    send no Origin are not browsers, and authenticate like any other."""
    if conn.scope["type"] != "websocket":
        return
    origin = conn.headers.get("origin")
    if origin is None:
        return
    host = conn.headers.get("host", "")
    own = {f"http://{host}", f"https://{host}"}
    allowed: list[str] = conn.app.state.services.settings.allowed_origins
    if origin.rstrip("/") not in own | {o.rstrip("/") for o in allowed}:
        raise ForbiddenError(
            f"websocket connections from the origin {origin!r} are not allowed",
            code=error_codes.CSRF_FAILED,
        )


def _trusted(conn: HTTPConnection) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    settings = getattr(conn.app.state.services, "settings", None)
    entries: list[str] = getattr(settings, "trusted_proxies", [])
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _is_trusted(
    address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(conn: HTTPConnection) -> str | None:
    """The caller's address: the peer's, or, when the peer is a trusted proxy, the
    nearest address in ``X-Forwarded-For`` that is not a trusted proxy (entries a client
    wrote itself, further left, are never believed)."""
    peer = conn.client.host if conn.client else None
    networks = _trusted(conn)
    if peer is None or not networks or not _is_trusted(peer, networks):
        return peer
    chain = [a.strip() for a in ",".join(conn.headers.getlist("x-forwarded-for")).split(",")]
    chain = [a for a in chain if a]
    for address in reversed(chain):
        if not _is_trusted(address, networks):
            return address
    return chain[0] if chain else peer


def is_secure(conn: HTTPConnection) -> bool:
    """Whether the caller reached us over TLS: the request's own scheme, or a trusted
    proxy's ``X-Forwarded-Proto``."""
    if conn.url.scheme in ("https", "wss"):
        return True
    peer = conn.client.host if conn.client else None
    networks = _trusted(conn)
    if peer is None or not networks or not _is_trusted(peer, networks):
        return False
    proto = conn.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto in ("https", "wss")


def actor(conn: HTTPConnection) -> Actor:
    """Who is acting, for the audit log: the resolved principal and the address."""
    who = principal(conn)
    ip = client_address(conn)
    if who is None:
        return Actor(kind="anonymous", ip=ip)
    return Actor(kind=who.kind, id=who.user_id or who.key_id or who.end_user_id, ip=ip)


async def audit(
    conn: HTTPConnection,
    action: str,
    *,
    workspace_id: str | None = None,
    target: str | None = None,
    **details: str | int | bool | None,
) -> None:
    """Record an event done by this request's caller in the audit log."""
    edge: Edge = conn.app.state.edge
    await edge.accounts.audit(
        action, actor(conn), workspace_id=workspace_id, target=target, details=details
    )


def principal(conn: HTTPConnection) -> Principal | None:
    """The principal its route's policy resolved (None: anonymous on a public route)."""
    return conn.scope.get("chorus.principal")


# -- resolution -----------------------------------------------------------------------


async def resolve(conn: HTTPConnection) -> Principal | None:
    """The request's principal (resolved once per request), or None when it carries no
    credential; a bad credential is a 401, never anonymous."""
    if "chorus.principal" in conn.scope:
        return conn.scope["chorus.principal"]  # type: ignore[no-any-return]
    who = await _resolve(conn)
    conn.scope["chorus.principal"] = who
    return who


async def _resolve(conn: HTTPConnection) -> Principal | None:
    edge: Edge = conn.app.state.edge
    header = conn.headers.get("authorization")
    selected = conn.headers.get(WORKSPACE_HEADER) or None
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise UnauthorizedError("use 'Authorization: Bearer <access token or key>'")
        return await edge.principal(token, selected)
    cookie = conn.cookies.get(ACCESS_COOKIE)
    if cookie:
        if isinstance(conn, Request) and conn.method in _UNSAFE:
            expected = conn.cookies.get(CSRF_COOKIE) or ""
            sent = conn.headers.get(CSRF_HEADER) or ""
            if not expected or not secrets.compare_digest(expected, sent):
                raise ForbiddenError(
                    "missing or wrong X-CSRF-Token (the value of the chorus_csrf cookie)",
                    code=error_codes.CSRF_FAILED,
                )
        return await edge.principal(cookie, selected)
    return None


class Edge:
    """Turns presented credentials into principals, with short caches so a request
    costs no store round trip in the common case (a revoked key or ended session is
    refused everywhere within ``ttl_s``, at once in the replica that revoked it)."""

    def __init__(self, accounts: AccountService, ttl_s: float = 5.0) -> None:
        self.accounts = accounts
        self.ttl_s = ttl_s
        self._cache: dict[tuple[str, str | None], tuple[float, Principal]] = {}

    async def principal(self, token: str, selected: str | None) -> Principal:
        key = (token, selected)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        who = await self._principal(token, selected)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self.ttl_s, who)
        return who

    def forget(self) -> None:
        """Drop every cached principal (after a revocation or a role change here)."""
        self._cache.clear()

    async def _principal(self, token: str, selected: str | None) -> Principal:
        if token.startswith((WORKSPACE_KEY_PREFIX + "-", APP_KEY_PREFIX + "-")):
            return await self.accounts.key_principal(token)
        if token.startswith(END_USER_PREFIX):
            return self.accounts.signer.check_end_user(token)
        if token.startswith(INTERNAL_PREFIX):
            workspace_id = self.accounts.signer.check_internal(token)
            return Principal(kind="internal", workspace_id=workspace_id, scopes=["read", "write"])
        who = await self.accounts.user_principal(token, selected)
        claims = self.accounts.signer.check(token)
        if not await self.accounts.session_active(claims.session_id):
            raise UnauthorizedError(
                "this login session has ended; log in again", code=error_codes.TOKEN_INVALID
            )
        return who
