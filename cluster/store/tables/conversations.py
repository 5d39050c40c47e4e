"""The tables of apps, their published versions, conversations, messages, summaries and
the prompts sent to the model; each row holds one record (see RecordRow)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agents.conversation.records import (
    AppRecord,
    AppVersionRecord,
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
)
from cluster.store.tables.base import OwnedRow, RecordRow, UtcDateTime, json_column


class AppRow(OwnedRow, RecordRow[AppRecord]):
    """An app; ``draft`` is the app spec being edited, as JSON."""

    __tablename__ = "apps"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)
    record_model = AppRecord

    draft: Mapped[dict[str, Any]] = mapped_column(json_column())
    published_version: Mapped[int | None] = mapped_column(Integer)
    access: Mapped[str] = mapped_column(String(16), server_default="private")
    limits: Mapped[dict[str, Any] | None] = mapped_column(json_column())
    end_user_limits: Mapped[dict[str, Any] | None] = mapped_column(json_column())


class AppVersionRow(RecordRow[AppVersionRecord]):
    """A published version of an app: its spec, frozen."""

    __tablename__ = "app_versions"
    __table_args__ = (
        UniqueConstraint("app_id", "version"),
        Index(None, "workspace_id", "app_id"),
    )
    record_model = AppVersionRecord

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConversationRow(OwnedRow, RecordRow[ConversationRecord]):
    """A conversation; ``app_id`` has no foreign key: conversations outlive their app."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(None, "workspace_id", "updated_at"),
        Index(None, "workspace_id", "app_id", "updated_at"),
        Index(None, "workspace_id", "user_id", "updated_at"),
    )
    record_model = ConversationRecord

    app_id: Mapped[str] = mapped_column(String)
    app_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, str]] = mapped_column(json_column())
    user_id: Mapped[str | None] = mapped_column(String)
    deleted: Mapped[bool] = mapped_column(Boolean)


class MessageRow(RecordRow[MessageRecord]):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        Index(None, "workspace_id", "conversation_id"),
    )
    record_model = MessageRecord

    id: Mapped[str] = mapped_column(String, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String)
    seq: Mapped[int] = mapped_column(Integer)
    turn_id: Mapped[str] = mapped_column(String)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[dict[str, Any] | None] = mapped_column(json_column())
    usage: Mapped[dict[str, Any] | None] = mapped_column(json_column())
    suggestions: Mapped[list[str]] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SummaryRow(RecordRow[SummaryRecord]):
    __tablename__ = "summaries"
    __table_args__ = (Index(None, "workspace_id", "conversation_id"),)
    record_model = SummaryRecord

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(String)
    text: Mapped[str] = mapped_column(Text)
    covers_until_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PromptRow(RecordRow[PromptRecord]):
    """What was sent to the model on one turn; ``id`` keeps the insertion order."""

    __tablename__ = "prompt_records"
    __table_args__ = (Index(None, "workspace_id", "conversation_id", "id"),)
    record_model = PromptRecord

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String)
    turn_id: Mapped[str] = mapped_column(String)
    purpose: Mapped[str] = mapped_column(String(32))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(json_column())
    model: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
