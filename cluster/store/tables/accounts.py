"""The tables of accounts: users, workspace members, refresh tokens, API keys, failed
logins, invitations and the audit log (workspaces are ``base.WorkspaceRow``).

A row holds one record (see RecordRow) and, beside it, the hash the record never
carries (``password_hash``, ``token_hash``, ``key_hash``); a secret is found by its
hash, so each hash is unique.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from agents.accounts.records import (
    ApiKeyRecord,
    AuditRecord,
    InvitationRecord,
    MembershipRecord,
    RefreshTokenRecord,
    UserRecord,
)
from cluster.store.tables.base import Base, RecordRow, UtcDateTime, json_column


class UserRow(RecordRow[UserRecord]):
    """A user of the instance; ``email`` is stored lower-cased."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email"),)
    record_model = UserRecord

    id: Mapped[str] = mapped_column(String, primary_key=True)
    email: Mapped[str] = mapped_column(String)
    display_name: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String)
    operator: Mapped[bool] = mapped_column(Boolean)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MembershipRow(RecordRow[MembershipRecord]):
    """A user's role in a workspace; indexed by user too (their workspaces)."""

    __tablename__ = "workspace_members"
    __table_args__ = (Index(None, "user_id"),)
    record_model = MembershipRecord

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefreshTokenRow(RecordRow[RefreshTokenRecord]):
    """One refresh token of a login session (its family)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index(None, "family_id"),
        Index(None, "user_id"),
    )
    record_model = RefreshTokenRecord

    id: Mapped[str] = mapped_column(String, primary_key=True)
    family_id: Mapped[str] = mapped_column(String)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKeyRow(RecordRow[ApiKeyRecord]):
    """A workspace key or an app key; ``scopes`` is a JSON list."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("key_hash"), Index(None, "workspace_id"))
    record_model = ApiKeyRecord

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(json_column())
    app_id: Mapped[str | None] = mapped_column(String)
    prefix: Mapped[str] = mapped_column(String)
    key_hash: Mapped[str] = mapped_column(String)
    created_by: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    limits: Mapped[dict[str, Any] | None] = mapped_column(json_column())


class LoginFailureRow(Base):
    """One failed login of a subject (an email or an address), counted for lockouts."""

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class InvitationRow(RecordRow[InvitationRecord]):
    """An invitation to a workspace, found by its token's hash."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("token_hash"), Index(None, "workspace_id"))
    record_model = InvitationRecord

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    email: Mapped[str] = mapped_column(String)
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[str | None] = mapped_column(String)
    token_hash: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditRow(RecordRow[AuditRecord]):
    """One audited event; read newest first, by workspace or by the user it is about.
    No foreign keys: the log outlives what it names."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "workspace_id", "at"), Index(None, "user_id", "at"))
    record_model = AuditRecord

    id: Mapped[str] = mapped_column(String, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    workspace_id: Mapped[str | None] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    actor: Mapped[dict[str, Any]] = mapped_column(json_column())
    user_id: Mapped[str | None] = mapped_column(String)
    target: Mapped[str | None] = mapped_column(String)
    details: Mapped[dict[str, Any]] = mapped_column(json_column())


class TokenUsageRow(Base):
    """Tokens a limited subject (a key, an app, an end user) used on a UTC day: the daily
    quotas read it back after a restart."""

    __tablename__ = "token_usage"

    subject: Mapped[str] = mapped_column(String, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    tokens: Mapped[int] = mapped_column(BigInteger)
