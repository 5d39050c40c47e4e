"""Where accounts live: the protocol, and an in-memory store for tests.

Hashes (of passwords, refresh tokens, API keys) are handed in beside the records and
never appear in them. Lookups by hash are how a presented secret is found; every
method that changes a token's state does it atomically (a refresh token is marked used
once, by one caller), so rotation stays correct across gateway replicas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from agents import error_codes
from agents.accounts.errors import ConflictError
from agents.accounts.records import (
    ApiKeyRecord,
    AuditRecord,
    InvitationRecord,
    MembershipRecord,
    RefreshTokenRecord,
    UserRecord,
    WorkspaceRecord,
)
from agents.errors import NotFoundError


def user_not_found() -> NotFoundError:
    return NotFoundError("no such user", code=error_codes.USER_NOT_FOUND)


def workspace_not_found() -> NotFoundError:
    return NotFoundError(
        "no such workspace, or you are not one of its members",
        code=error_codes.WORKSPACE_NOT_FOUND,
    )


def key_not_found() -> NotFoundError:
    return NotFoundError("no such API key in this workspace", code=error_codes.KEY_NOT_FOUND)


def invitation_invalid() -> NotFoundError:
    return NotFoundError(
        "this invitation is unknown, revoked, expired or accepted already",
        code=error_codes.INVITATION_INVALID,
    )


def email_taken(email: str) -> ConflictError:
    return ConflictError(f"an account with the email {email!r} exists already", param="email")


@runtime_checkable
class AccountStoreProtocol(Protocol):
    # -- users ------------------------------------------------------------------------
    async def create_user(self, user: UserRecord, password_hash: str) -> UserRecord:
        """ConflictError (email_taken) when the email is in use."""
        ...

    async def get_user(self, user_id: str) -> UserRecord:
        """NotFoundError (user_not_found)."""
        ...

    async def find_user(self, email: str) -> tuple[UserRecord, str] | None:
        """The user with this (lower-cased) email and their password hash."""
        ...

    async def set_password(self, user_id: str, password_hash: str) -> None: ...

    async def list_users(self) -> list[UserRecord]:
        """Oldest first."""
        ...

    # -- workspaces and members ---------------------------------------------------------
    async def create_workspace(self, workspace: WorkspaceRecord) -> WorkspaceRecord:
        """Creates it, or names one that exists already without a name (the ``local``
        workspace, made by the first record stored in it)."""
        ...

    async def get_workspace(self, workspace_id: str) -> WorkspaceRecord:
        """NotFoundError (workspace_not_found)."""
        ...

    async def put_member(self, membership: MembershipRecord) -> MembershipRecord:
        """Adds the user to the workspace, or changes their role."""
        ...

    async def get_member(self, workspace_id: str, user_id: str) -> MembershipRecord | None: ...

    async def list_members(self, workspace_id: str) -> list[MembershipRecord]:
        """Oldest first."""
        ...

    async def list_memberships(self, user_id: str) -> list[MembershipRecord]:
        """The user's workspaces, oldest first."""
        ...

    async def remove_member(self, workspace_id: str, user_id: str) -> None:
        """NotFoundError (user_not_found) when they are not a member."""
        ...

    # -- refresh tokens -----------------------------------------------------------------
    async def add_refresh_token(self, token: RefreshTokenRecord, token_hash: str) -> None: ...

    async def find_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None: ...

    async def use_refresh_token(self, token_id: str, at: datetime) -> bool:
        """Marks it used; False when it was used already (by anyone)."""
        ...

    async def revoke_sessions(
        self, user_id: str, at: datetime, *, family_id: str | None = None, keep: str | None = None
    ) -> None:
        """Revokes the user's login sessions: one (``family_id``), or all but ``keep``."""
        ...

    async def session_revoked(self, family_id: str) -> bool: ...

    # -- API keys -----------------------------------------------------------------------
    async def add_key(self, key: ApiKeyRecord, key_hash: str) -> ApiKeyRecord: ...

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None: ...

    async def list_keys(self, workspace_id: str) -> list[ApiKeyRecord]:
        """Oldest first, revoked ones included."""
        ...

    async def revoke_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKeyRecord:
        """NotFoundError (key_not_found), also for another workspace's key."""
        ...

    async def touch_key(self, key_id: str, at: datetime) -> None:
        """Records a use (last_used_at)."""
        ...

    # -- failed logins (lockout holds across gateway replicas) --------------------------
    async def add_login_failure(self, subject: str, at: datetime) -> None: ...

    async def count_login_failures(self, subject: str, since: datetime) -> int: ...

    async def clear_login_failures(self, subject: str) -> None: ...

    # invitations

    async def add_invitation(self, invitation: InvitationRecord, token_hash: str) -> None: ...

    async def find_invitation(self, token_hash: str) -> InvitationRecord | None: ...

    async def list_invitations(self, workspace_id: str) -> list[InvitationRecord]:
        """The workspace's invitations not accepted nor revoked, oldest first."""
        ...

    async def close_invitation(
        self,
        workspace_id: str,
        invitation_id: str,
        at: datetime,
        *,
        accepted_by: str | None = None,
    ) -> InvitationRecord | None:
        """Mark an open invitation accepted (by ``accepted_by``) or revoked; None when
        it was not open (one UPDATE: an invitation is used once)."""
        ...

    # the audit log

    async def add_audit(self, event: AuditRecord) -> None: ...

    async def list_audit(
        self, workspace_id: str | None, *, before: datetime | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first: a workspace's events and the instance events about its current
        members; with None, the instance's own events (the operator's view: logins, users
        and workspaces made, never what happened inside a workspace)."""
        ...


@dataclass
class InMemoryAccountStore:
    """AccountStoreProtocol in memory (unit tests)."""

    users: dict[str, UserRecord] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    workspaces: dict[str, WorkspaceRecord] = field(default_factory=dict)
    members: dict[tuple[str, str], MembershipRecord] = field(default_factory=dict)
    refresh: dict[str, tuple[RefreshTokenRecord, str]] = field(default_factory=dict)
    keys: dict[str, tuple[ApiKeyRecord, str]] = field(default_factory=dict)
    failures: dict[str, list[datetime]] = field(default_factory=dict)
    invitations: dict[str, tuple[InvitationRecord, str]] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)

    async def create_user(self, user: UserRecord, password_hash: str) -> UserRecord:
        if any(u.email == user.email for u in self.users.values()):
            raise email_taken(user.email)
        self.users[user.id] = user
        self.passwords[user.id] = password_hash
        return user

    async def get_user(self, user_id: str) -> UserRecord:
        if user_id not in self.users:
            raise user_not_found()
        return self.users[user_id]

    async def find_user(self, email: str) -> tuple[UserRecord, str] | None:
        user = next((u for u in self.users.values() if u.email == email.lower()), None)
        return None if user is None else (user, self.passwords[user.id])

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self.get_user(user_id)
        self.passwords[user_id] = password_hash

    async def list_users(self) -> list[UserRecord]:
        return sorted(self.users.values(), key=lambda u: u.created_at)

    async def create_workspace(self, workspace: WorkspaceRecord) -> WorkspaceRecord:
        self.workspaces.setdefault(workspace.id, workspace)
        return self.workspaces[workspace.id]

    async def get_workspace(self, workspace_id: str) -> WorkspaceRecord:
        if workspace_id not in self.workspaces:
            raise workspace_not_found()
        return self.workspaces[workspace_id]

    async def put_member(self, membership: MembershipRecord) -> MembershipRecord:
        await self.get_workspace(membership.workspace_id)
        await self.get_user(membership.user_id)
        key = (membership.workspace_id, membership.user_id)
        old = self.members.get(key)
        if old is not None:
            membership = old.model_copy(update={"role": membership.role})
        self.members[key] = membership
        return membership

    async def get_member(self, workspace_id: str, user_id: str) -> MembershipRecord | None:
        return self.members.get((workspace_id, user_id))

    async def list_members(self, workspace_id: str) -> list[MembershipRecord]:
        found = [m for (ws, _), m in self.members.items() if ws == workspace_id]
        return sorted(found, key=lambda m: m.created_at)

    async def list_memberships(self, user_id: str) -> list[MembershipRecord]:
        found = [m for (_, uid), m in self.members.items() if uid == user_id]
        return sorted(found, key=lambda m: m.created_at)

    async def remove_member(self, workspace_id: str, user_id: str) -> None:
        if self.members.pop((workspace_id, user_id), None) is None:
            raise user_not_found()

    async def add_refresh_token(self, token: RefreshTokenRecord, token_hash: str) -> None:
        self.refresh[token.id] = (token, token_hash)

    async def find_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        return next((t for t, h in self.refresh.values() if h == token_hash), None)

    async def use_refresh_token(self, token_id: str, at: datetime) -> bool:
        token, token_hash = self.refresh[token_id]
        if token.used_at is not None:
            return False
        self.refresh[token_id] = (token.model_copy(update={"used_at": at}), token_hash)
        return True

    async def revoke_sessions(
        self, user_id: str, at: datetime, *, family_id: str | None = None, keep: str | None = None
    ) -> None:
        for token_id, (token, token_hash) in list(self.refresh.items()):
            if token.user_id != user_id or token.revoked_at is not None:
                continue
            if (family_id is None or token.family_id == family_id) and token.family_id != keep:
                self.refresh[token_id] = (token.model_copy(update={"revoked_at": at}), token_hash)

    async def session_revoked(self, family_id: str) -> bool:
        tokens = [t for t, _ in self.refresh.values() if t.family_id == family_id]
        return not tokens or any(t.revoked_at is not None for t in tokens)

    async def add_key(self, key: ApiKeyRecord, key_hash: str) -> ApiKeyRecord:
        self.keys[key.id] = (key, key_hash)
        return key

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        return next((k for k, h in self.keys.values() if h == key_hash), None)

    async def list_keys(self, workspace_id: str) -> list[ApiKeyRecord]:
        found = [k for k, _ in self.keys.values() if k.workspace_id == workspace_id]
        return sorted(found, key=lambda k: k.created_at)

    async def revoke_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKeyRecord:
        found = self.keys.get(key_id)
        if found is None or found[0].workspace_id != workspace_id:
            raise key_not_found()
        key = found[0] if found[0].revoked_at else found[0].model_copy(update={"revoked_at": at})
        self.keys[key_id] = (key, found[1])
        return key

    async def touch_key(self, key_id: str, at: datetime) -> None:
        key, key_hash = self.keys[key_id]
        self.keys[key_id] = (key.model_copy(update={"last_used_at": at}), key_hash)

    async def add_login_failure(self, subject: str, at: datetime) -> None:
        self.failures.setdefault(subject, []).append(at)

    async def count_login_failures(self, subject: str, since: datetime) -> int:
        return sum(1 for at in self.failures.get(subject, []) if at >= since)

    async def clear_login_failures(self, subject: str) -> None:
        self.failures.pop(subject, None)

    async def add_invitation(self, invitation: InvitationRecord, token_hash: str) -> None:
        self.invitations[invitation.id] = (invitation, token_hash)

    async def find_invitation(self, token_hash: str) -> InvitationRecord | None:
        return next((i for i, h in self.invitations.values() if h == token_hash), None)

    async def list_invitations(self, workspace_id: str) -> list[InvitationRecord]:
        found = [
            i
            for i, _ in self.invitations.values()
            if i.workspace_id == workspace_id and i.accepted_at is None and i.revoked_at is None
        ]
        return sorted(found, key=lambda i: i.created_at)

    async def close_invitation(
        self,
        workspace_id: str,
        invitation_id: str,
        at: datetime,
        *,
        accepted_by: str | None = None,
    ) -> InvitationRecord | None:
        found = self.invitations.get(invitation_id)
        if found is None or found[0].workspace_id != workspace_id:
            return None
        invitation, token_hash = found
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            return None
        closed = invitation.model_copy(
            update={"accepted_at": at, "accepted_by": accepted_by}
            if accepted_by
            else {"revoked_at": at}
        )
        self.invitations[invitation_id] = (closed, token_hash)
        return closed

    async def add_audit(self, event: AuditRecord) -> None:
        self.audit.append(event)

    async def list_audit(
        self, workspace_id: str | None, *, before: datetime | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        members = {u for (w, u) in self.members if w == workspace_id}
        found = [
            e
            for e in self.audit
            if (before is None or e.at < before)
            and (
                e.workspace_id == workspace_id
                or (workspace_id is not None and e.workspace_id is None and e.user_id in members)
            )
        ]
        found.sort(key=lambda e: (e.at, e.id), reverse=True)
        return found[:limit]
