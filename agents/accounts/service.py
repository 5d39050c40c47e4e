"""The accounts' operations: users and login sessions, workspaces and members, API keys,
and turning a presented credential into a :class:`Principal`.

Login sessions are refresh-token *families*: a login starts one, every refresh uses the
presented token once and adds the next one to the family, and a token presented a
second time (stolen and replayed, or replayed by a confused client) revokes the whole
family. Access tokens are short-lived and name their family, so revoking a family ends
its access within one access-token lifetime, or at once where the caller checks
:meth:`AccountService.session_active`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from agents import error_codes
from agents.accounts import secrets as sec
from agents.accounts.errors import AccountLockedError, ConflictError, ForbiddenError
from agents.accounts.records import (
    Actor,
    ApiKeyRecord,
    AuditRecord,
    CreatedInvitation,
    CreatedKey,
    InvitationRecord,
    KeyScope,
    MembershipRecord,
    Principal,
    RefreshTokenRecord,
    Role,
    SessionTokens,
    UserRecord,
    WorkspaceRecord,
    role_allows,
)
from agents.accounts.store import AccountStoreProtocol, invitation_invalid, workspace_not_found
from agents.errors import InvalidInputError, UnauthorizedError
from agents.ids import new_id, utcnow
from agents.limits import Limits

#: Key prefixes: a workspace key, an app key, a refresh token.
WORKSPACE_KEY_PREFIX = "ck"
APP_KEY_PREFIX = "app"
REFRESH_PREFIX = "rt"
INVITATION_PREFIX = "inv"
#: An action done by the server itself (the first start, the admin CLI).
SYSTEM = Actor()
MIN_PASSWORD_CHARS = 8


@dataclass(frozen=True)
class AccountPolicy:
    """Lifetimes and the login throttle (settings fill it)."""

    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    #: Failed logins (per email, and per client address) within ``failure_window``:
    #: from ``slow_after`` on each answer is delayed, from ``lock_after`` on refused.
    failure_window: timedelta = timedelta(minutes=15)
    slow_after: int = 5
    lock_after: int = 10
    max_delay_s: float = 2.0
    invitation_ttl: timedelta = timedelta(days=7)


def _invalid_credentials() -> UnauthorizedError:
    return UnauthorizedError("wrong email or password", code=error_codes.INVALID_CREDENTIALS)


def _refresh_invalid() -> UnauthorizedError:
    return UnauthorizedError(
        "the refresh token is not valid; log in again", code=error_codes.TOKEN_INVALID
    )


def _email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInputError("not an email address", param="email")
    return email


def check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            f"the password must have at least {MIN_PASSWORD_CHARS} characters",
            param="password",
        )


class AccountService:
    def __init__(
        self,
        store: AccountStoreProtocol,
        signer: sec.AccessTokenSigner,
        policy: AccountPolicy = AccountPolicy(),  # noqa: B008 - frozen, shared safely
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.signer = signer
        self.policy = policy
        self._clock = clock
        self._sleep = sleep

    # -- users ----------------------------------------------------------------------------

    async def create_user(
        self,
        email: str,
        password: str,
        display_name: str = "",
        *,
        language: str = "en",
        operator: bool = False,
        actor: Actor = SYSTEM,
    ) -> UserRecord:
        email = _email(email)
        check_password_rule(password)
        user = UserRecord(
            id=new_id("user"),
            email=email,
            display_name=display_name or email.split("@", 1)[0],
            language=language,
            operator=operator,
            created_at=self._clock(),
        )
        created = await self.store.create_user(user, sec.hash_password(password))
        await self.audit("user.created", actor, user_id=created.id, target=created.id)
        return created

    async def set_password(self, user_id: str, password: str, *, actor: Actor = SYSTEM) -> None:
        """An operator's reset: a new password, and every login session of the user ends."""
        check_password_rule(password)
        await self.store.set_password(user_id, sec.hash_password(password))
        await self.store.revoke_sessions(user_id, self._clock())
        await self.audit("password.reset", actor, user_id=user_id, target=user_id)

    async def change_password(
        self,
        user_id: str,
        current: str,
        new: str,
        *,
        session_id: str | None = None,
        actor: Actor = SYSTEM,
    ) -> None:
        """The user's own change: the current password must match; every other login
        session ends (``session_id``, the caller's own, stays)."""
        user = await self.store.get_user(user_id)
        found = await self.store.find_user(user.email)
        if found is None or not sec.verify_password(found[1], current):
            raise _invalid_credentials()
        check_password_rule(new)
        await self.store.set_password(user_id, sec.hash_password(new))
        await self.store.revoke_sessions(user_id, self._clock(), keep=session_id)
        await self.audit("password.changed", actor, user_id=user_id, target=user_id)

    # -- login sessions -------------------------------------------------------------------

    async def login(self, email: str, password: str, *, client: str | None = None) -> SessionTokens:
        """A new login session; the same 401 for an unknown email and a wrong password.
        ``client``: the caller's address (throttled too, and audited)."""
        email = email.strip().lower()
        subjects = [f"email:{email}"] + ([f"client:{client}"] if client else [])
        found = await self.store.find_user(email)
        who = Actor(kind="anonymous", ip=client)
        user_id = found[0].id if found else None
        try:
            await self._throttle(subjects)
        except AccountLockedError:
            await self.audit("login.locked", who, user_id=user_id, email=email)
            raise
        ok = sec.verify_password(found[1] if found else None, password)
        if found is None or not ok:
            now = self._clock()
            for subject in subjects:
                await self.store.add_login_failure(subject, now)
            await self.audit("login.failed", who, user_id=user_id, email=email)
            raise _invalid_credentials()
        user, password_hash = found
        if sec.needs_rehash(password_hash):
            await self.store.set_password(user.id, sec.hash_password(password))
        await self.store.clear_login_failures(subjects[0])
        tokens = await self._issue(user, new_id("sess"))
        await self.audit(
            "login.succeeded", Actor(kind="user", id=user.id, ip=client), user_id=user.id
        )
        return tokens

    async def _throttle(self, subjects: list[str]) -> None:
        since = self._clock() - self.policy.failure_window
        failures = max([await self.store.count_login_failures(s, since) for s in subjects])
        if failures >= self.policy.lock_after:
            raise AccountLockedError(
                "too many failed logins; try again later",
                retry_after=self.policy.failure_window.total_seconds(),
            )
        if failures >= self.policy.slow_after:
            over = failures - self.policy.slow_after
            await self._sleep(min(self.policy.max_delay_s, 0.25 * 2**over))

    async def _issue(self, user: UserRecord, session_id: str) -> SessionTokens:
        now = self._clock()
        refresh = sec.new_secret(REFRESH_PREFIX)
        record = RefreshTokenRecord(
            id=new_id("rt"),
            family_id=session_id,
            user_id=user.id,
            created_at=now,
            expires_at=now + self.policy.refresh_ttl,
        )
        await self.store.add_refresh_token(record, sec.digest(refresh))
        return SessionTokens(
            user=user,
            access_token=self.signer.sign(user.id, session_id, now, self.policy.access_ttl),
            access_expires_at=now + self.policy.access_ttl,
            refresh_token=refresh,
            refresh_expires_at=record.expires_at,
            session_id=session_id,
        )

    async def refresh(self, refresh_token: str) -> SessionTokens:
        """A new pair for a refresh token, which is then used up. A used token presented
        again revokes its whole login session (401 token_invalid)."""
        record = await self.store.find_refresh_token(sec.digest(refresh_token))
        now = self._clock()
        if record is None or record.revoked_at is not None:
            raise _refresh_invalid()
        if record.expires_at <= now:
            raise UnauthorizedError(
                "the refresh token has expired; log in again", code=error_codes.TOKEN_EXPIRED
            )
        if record.used_at is not None or not await self.store.use_refresh_token(record.id, now):
            await self.store.revoke_sessions(record.user_id, now, family_id=record.family_id)
            raise _refresh_invalid()
        user = await self.store.get_user(record.user_id)
        return await self._issue(user, record.family_id)

    async def logout(self, refresh_token: str) -> None:
        """Ends the refresh token's login session (an unknown token is no error)."""
        record = await self.store.find_refresh_token(sec.digest(refresh_token))
        if record is not None:
            await self.store.revoke_sessions(
                record.user_id, self._clock(), family_id=record.family_id
            )

    async def end_session(self, user_id: str, session_id: str) -> None:
        await self.store.revoke_sessions(user_id, self._clock(), family_id=session_id)

    async def session_active(self, session_id: str) -> bool:
        return not await self.store.session_revoked(session_id)

    # -- workspaces and members -----------------------------------------------------------

    async def create_workspace(
        self,
        name: str,
        owner_id: str,
        *,
        workspace_id: str | None = None,
        actor: Actor = SYSTEM,
    ) -> WorkspaceRecord:
        if not name.strip():
            raise InvalidInputError("a workspace needs a name", param="name")
        workspace = await self.store.create_workspace(
            WorkspaceRecord(id=workspace_id or new_id("ws"), name=name, created_at=self._clock())
        )
        await self.store.put_member(
            MembershipRecord(
                workspace_id=workspace.id, user_id=owner_id, role="owner", created_at=self._clock()
            )
        )
        await self.audit("workspace.created", actor, user_id=owner_id, target=workspace.id)
        return workspace

    async def membership(self, workspace_id: str, user_id: str) -> MembershipRecord:
        """The user's membership; 404 workspace_not_found when they have none (never
        403: another workspace's existence is not confirmed)."""
        member = await self.store.get_member(workspace_id, user_id)
        if member is None:
            raise workspace_not_found()
        return member

    async def require_role(self, workspace_id: str, user_id: str, needed: Role) -> MembershipRecord:
        member = await self.membership(workspace_id, user_id)
        if not role_allows(member.role, needed):
            raise ForbiddenError(
                f"this needs the role '{needed}' or higher in the workspace; you are "
                f"'{member.role}'",
                details={"needed_role": needed, "role": member.role},
            )
        return member

    async def set_member(
        self, workspace_id: str, user_id: str, role: Role, *, actor: Actor = SYSTEM
    ) -> MembershipRecord:
        """Adds a member or changes their role; the last owner stays an owner."""
        current = await self.store.get_member(workspace_id, user_id)
        if current is not None and current.role == "owner" and role != "owner":
            await self._keep_an_owner(workspace_id, user_id)
        stored = await self.store.put_member(
            MembershipRecord(
                workspace_id=workspace_id, user_id=user_id, role=role, created_at=self._clock()
            )
        )
        await self.audit(
            "member.added" if current is None else "member.role_changed",
            actor,
            workspace_id=workspace_id,
            user_id=user_id,
            target=user_id,
            role=role,
            previous_role=current.role if current else None,
        )
        return stored

    async def remove_member(
        self, workspace_id: str, user_id: str, *, actor: Actor = SYSTEM
    ) -> None:
        current = await self.store.get_member(workspace_id, user_id)
        if current is not None and current.role == "owner":
            await self._keep_an_owner(workspace_id, user_id)
        await self.store.remove_member(workspace_id, user_id)
        await self.audit(
            "member.removed", actor, workspace_id=workspace_id, user_id=user_id, target=user_id
        )

    # -- invitations ----------------------------------------------------------------------

    async def invite(
        self, workspace_id: str, email: str, role: Role, *, actor: Actor = SYSTEM
    ) -> CreatedInvitation:
        """An invitation for ``email`` to join with ``role``; the token is in the answer
        only (the inviter passes the link on: no mail server is needed)."""
        email = _email(email)
        found = await self.store.find_user(email)
        if found is not None and await self.store.get_member(workspace_id, found[0].id):
            raise ConflictError(
                f"{email} is a member of this workspace already",
                code=error_codes.ALREADY_MEMBER,
                param="email",
            )
        now = self._clock()
        token = sec.new_secret(INVITATION_PREFIX)
        invitation = InvitationRecord(
            id=new_id("inv"),
            workspace_id=workspace_id,
            email=email,
            role=role,
            invited_by=actor.id if actor.kind == "user" else None,
            created_at=now,
            expires_at=now + self.policy.invitation_ttl,
        )
        await self.store.add_invitation(invitation, sec.digest(token))
        await self.audit(
            "invitation.created",
            actor,
            workspace_id=workspace_id,
            target=invitation.id,
            email=email,
            role=role,
        )
        return CreatedInvitation(invitation=invitation, token=token)

    async def revoke_invitation(
        self, workspace_id: str, invitation_id: str, *, actor: Actor = SYSTEM
    ) -> InvitationRecord:
        closed = await self.store.close_invitation(workspace_id, invitation_id, self._clock())
        if closed is None:
            raise invitation_invalid()
        await self.audit(
            "invitation.revoked", actor, workspace_id=workspace_id, target=invitation_id
        )
        return closed

    async def invitation(self, token: str) -> InvitationRecord:
        """The open invitation of a token; one 404 for unknown, used, revoked, expired."""
        found = await self.store.find_invitation(sec.digest(token))
        if (
            found is None
            or found.accepted_at is not None
            or found.revoked_at is not None
            or found.expires_at <= self._clock()
        ):
            raise invitation_invalid()
        return found

    async def accept_invitation(
        self,
        token: str,
        password: str,
        *,
        display_name: str = "",
        client: str | None = None,
    ) -> tuple[MembershipRecord, SessionTokens]:
        """Join the invitation's workspace and log in: with the password of the invited
        email's account, or, when it has none, making that account with ``password``.
        A member already keeps their role. The invitation is used once."""
        invitation = await self.invitation(token)
        if await self.store.find_user(invitation.email) is None:
            await self.create_user(
                invitation.email,
                password,
                display_name,
                actor=Actor(kind="anonymous", ip=client),
            )
        tokens = await self.login(invitation.email, password, client=client)
        user = tokens.user
        who = Actor(kind="user", id=user.id, ip=client)
        closed = await self.store.close_invitation(
            invitation.workspace_id, invitation.id, self._clock(), accepted_by=user.id
        )
        if closed is None:  # accepted or revoked meanwhile
            await self.end_session(user.id, tokens.session_id)
            raise invitation_invalid()
        member = await self.store.get_member(invitation.workspace_id, user.id)
        if member is None:
            member = await self.set_member(
                invitation.workspace_id, user.id, invitation.role, actor=who
            )
        await self.audit(
            "invitation.accepted",
            who,
            workspace_id=invitation.workspace_id,
            user_id=user.id,
            target=invitation.id,
        )
        return member, tokens

    async def list_invitations(self, workspace_id: str) -> list[InvitationRecord]:
        return await self.store.list_invitations(workspace_id)

    # -- the audit log --------------------------------------------------------------------

    async def audit(
        self,
        action: str,
        actor: Actor,
        *,
        workspace_id: str | None = None,
        user_id: str | None = None,
        target: str | None = None,
        details: Mapping[str, str | int | bool | None] | None = None,
        **more: str | int | bool | None,
    ) -> None:
        """Record an event (callers pass names and ids, never a secret) with ``details``
        and the keywords ``more``."""
        await self.store.add_audit(
            AuditRecord(
                id=new_id("aud"),
                at=self._clock(),
                workspace_id=workspace_id,
                action=action,
                actor=actor,
                user_id=user_id,
                target=target,
                details={**(details or {}), **more},
            )
        )

    async def _keep_an_owner(self, workspace_id: str, leaving: str) -> None:
        owners = [
            m for m in await self.store.list_members(workspace_id)
            if m.role == "owner" and m.user_id != leaving
        ]  # fmt: skip
        if not owners:
            raise ConflictError(
                "the workspace's last owner cannot leave or stop being an owner; make "
                "someone else an owner first",
                code=error_codes.LAST_OWNER,
            )

    # -- API keys -------------------------------------------------------------------------

    async def create_key(
        self,
        workspace_id: str,
        name: str,
        *,
        scopes: list[KeyScope] | None = None,
        app_id: str | None = None,
        expires_at: datetime | None = None,
        created_by: str | None = None,
        actor: Actor = SYSTEM,
        limits: Limits | None = None,
    ) -> CreatedKey:
        """A workspace key with ``scopes`` or, with ``app_id``, an app key; the secret is
        in the answer only."""
        if app_id is not None and scopes:
            raise InvalidInputError("an app key has no scopes", param="scopes")
        if app_id is None and not scopes:
            raise InvalidInputError("a workspace key needs at least one scope", param="scopes")
        if expires_at is not None and expires_at <= self._clock():
            raise InvalidInputError("the expiry is in the past", param="expires_at")
        prefix = APP_KEY_PREFIX if app_id else WORKSPACE_KEY_PREFIX
        secret = sec.new_secret(prefix)
        record = ApiKeyRecord(
            id=new_id("key"),
            workspace_id=workspace_id,
            name=name,
            kind="app" if app_id else "workspace",
            scopes=sorted(set(scopes or [])),
            app_id=app_id,
            prefix=secret[: len(prefix) + 7],
            created_by=created_by,
            created_at=self._clock(),
            expires_at=expires_at,
            limits=limits if limits is not None and limits.any() else None,
        )
        stored = await self.store.add_key(record, sec.digest(secret))
        await self.audit(
            "key.created",
            actor,
            workspace_id=workspace_id,
            target=stored.id,
            name=name,
            scopes=",".join(stored.scopes),
            app_id=app_id,
        )
        return CreatedKey(key=stored, secret=secret)

    async def key_principal(self, secret: str) -> Principal:
        """The principal of a presented key: 401 unauthorized (unknown), key_revoked,
        key_expired."""
        key = await self.store.find_key(sec.digest(secret))
        now = self._clock()
        if key is None:
            raise UnauthorizedError("unknown API key")
        if key.revoked_at is not None:
            raise UnauthorizedError("the API key was revoked", code=error_codes.KEY_REVOKED)
        if key.expires_at is not None and key.expires_at <= now:
            raise UnauthorizedError("the API key has expired", code=error_codes.KEY_EXPIRED)
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            await self.store.touch_key(key.id, now)  # not a write per request
        return Principal(
            kind="app_key" if key.kind == "app" else "workspace_key",
            workspace_id=key.workspace_id,
            scopes=key.scopes,
            app_id=key.app_id,
            key_id=key.id,
            limits=key.limits,
        )

    async def revoke_key(
        self, workspace_id: str, key_id: str, *, actor: Actor = SYSTEM
    ) -> ApiKeyRecord:
        revoked = await self.store.revoke_key(workspace_id, key_id, self._clock())
        await self.audit("key.revoked", actor, workspace_id=workspace_id, target=key_id)
        return revoked

    async def list_keys(self, workspace_id: str) -> list[ApiKeyRecord]:
        return await self.store.list_keys(workspace_id)

    def internal_credential(self, workspace_id: str) -> str:
        """A credential for the server's own calls on ``workspace_id``'s behalf (a crew's
        model calls through the gateway): that workspace only, valid one hour."""
        return self.signer.sign_internal(workspace_id, self._clock(), timedelta(hours=1))

    # -- the principal of an access token -------------------------------------------------

    async def user_principal(self, access_token: str, workspace_id: str | None) -> Principal:
        """The principal of an access token acting in ``workspace_id`` (checked against
        the user's memberships; None: the user's first workspace, or none)."""
        claims = self.signer.check(access_token)
        user = await self.store.get_user(claims.user_id)
        if workspace_id is None:
            memberships = await self.store.list_memberships(user.id)
            member = memberships[0] if memberships else None
        else:
            member = await self.membership(workspace_id, user.id)
        return Principal(
            kind="user",
            user_id=user.id,
            workspace_id=member.workspace_id if member else None,
            role=member.role if member else None,
            operator=user.operator,
        )
