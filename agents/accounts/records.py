"""What the accounts store holds, and the principal a request runs as.

Secrets are never part of a record: a user's password hash, a refresh token's hash and
an API key's hash are handed to the store beside the record and read back only by the
service that checks them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.ids import utcnow
from agents.limits import Limits

Role = Literal["owner", "admin", "editor", "member"]
#: Each role can do what the roles after it can.
ROLES: tuple[Role, ...] = ("owner", "admin", "editor", "member")
KeyScope = Literal["read", "write", "admin"]
KEY_SCOPES: tuple[KeyScope, ...] = ("read", "write", "admin")


def role_allows(role: Role, needed: Role) -> bool:
    """Whether ``role`` can do what ``needed`` can (owner > admin > editor > member)."""
    return ROLES.index(role) <= ROLES.index(needed)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserRecord(_Record):
    id: str
    email: str = Field(description="Lower-cased; unique across the instance.")
    display_name: str
    language: str = Field(default="en", description="BCP 47 tag of the interface language.")
    operator: bool = Field(
        default=False,
        description="An instance operator: creates workspaces and users; sees no workspace's "
        "data unless a member.",
    )
    created_at: datetime = Field(default_factory=utcnow)


class WorkspaceRecord(_Record):
    id: str
    name: str
    created_at: datetime = Field(default_factory=utcnow)


class MembershipRecord(_Record):
    workspace_id: str
    user_id: str
    role: Role
    created_at: datetime = Field(default_factory=utcnow)


class RefreshTokenRecord(_Record):
    """One refresh token of a login session (a *family*: every rotation adds one)."""

    id: str
    family_id: str
    user_id: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    #: Set when it was exchanged for a new pair; a second use revokes the family.
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyRecord(_Record):
    """A workspace key (``ck-…``, scoped) or an app key (``app-…``, one published app)."""

    id: str
    workspace_id: str
    name: str
    kind: Literal["workspace", "app"]
    scopes: list[KeyScope] = Field(default_factory=list, description="Workspace keys only.")
    app_id: str | None = Field(default=None, description="App keys only: the one app.")
    #: The key's first characters, to tell keys apart in lists (never enough to use it).
    prefix: str
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    limits: Limits | None = Field(
        default=None, description="Requests per minute, concurrent streams, tokens per day."
    )


class CreatedKey(_Record):
    """A new key: its record, and the secret, shown this once."""

    key: ApiKeyRecord
    secret: str


class SessionTokens(_Record):
    """What a login or a refresh gives: a short-lived access token and a refresh token."""

    user: UserRecord
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    #: The login session both belong to (logout and password changes revoke by it).
    session_id: str


class AccessClaims(_Record):
    """A checked access token."""

    user_id: str
    session_id: str
    expires_at: datetime


PrincipalKind = Literal["user", "workspace_key", "app_key", "internal", "end_user"]


class Principal(_Record):
    """Who a request runs as, resolved once at the edge (DESIGN decision 7).

    ``workspace_id`` is the workspace the request acts in: for a user, the one selected
    and checked against their memberships; for a key or an internal credential, the
    one it belongs to. Handlers take it from here, never from the request."""

    kind: PrincipalKind
    workspace_id: str | None = None
    user_id: str | None = None
    role: Role | None = Field(default=None, description="A user's role in the workspace.")
    scopes: list[KeyScope] = Field(default_factory=list, description="A workspace key's.")
    app_id: str | None = Field(default=None, description="An app key's or end user's one app.")
    key_id: str | None = None
    operator: bool = False
    end_user_id: str | None = Field(
        default=None, description="An end user's id, stable per browser or per account."
    )
    limits: Limits | None = Field(default=None, description="A key's limits.")

    def owner(self) -> str | None:
        """The conversations' owner this caller is held to: an end user's own, and a
        workspace member's (the role) own; None: every conversation of the workspace."""
        if self.kind == "end_user":
            return self.end_user_id
        if self.kind == "user" and self.role == "member" and self.user_id is not None:
            return user_owner(self.user_id)
        return None


def user_owner(user_id: str) -> str:
    """The conversation owner id of a signed-in user (as member or end user)."""
    return f"user-{user_id}"


class InvitationRecord(_Record):
    """An invitation to join a workspace with a role; its token is in the link only."""

    id: str
    workspace_id: str
    email: str = Field(description="Lower-cased; only this account can accept it.")
    role: Role
    invited_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    revoked_at: datetime | None = None


class CreatedInvitation(_Record):
    """A new invitation, and its token, shown this once (no mail server is needed: the
    inviter passes the link on)."""

    invitation: InvitationRecord
    token: str
    link: str = ""


ActorKind = Literal[
    "user", "workspace_key", "app_key", "internal", "end_user", "anonymous", "system"
]


class Actor(_Record):
    """Who did something and from where, as the audit log records it."""

    kind: ActorKind = "system"
    id: str | None = Field(default=None, description="A user's or a key's id.")
    ip: str | None = None


class AuditRecord(_Record):
    """One audited event. ``workspace_id`` is None for events of the instance (logins,
    users, workspaces made); ``user_id`` names the user the event is about, so a
    workspace's admins see its members' logins. Never holds a secret."""

    id: str
    at: datetime = Field(default_factory=utcnow)
    workspace_id: str | None = None
    action: str = Field(description="For example login.failed, key.created, member.removed.")
    actor: Actor = Field(default_factory=Actor)
    user_id: str | None = None
    target: str | None = Field(default=None, description="The object acted on (an id).")
    details: dict[str, str | int | bool | None] = Field(default_factory=dict)
