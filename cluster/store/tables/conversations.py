"""The tables of apps, their published versions, conversations, messages, summaries and
the prompts sent to the model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agents.apps.spec import AppSpec
from agents.conversation.records import (
    AppRecord,
    AppVersionRecord,
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
)
from cluster.store.tables.base import Base, UtcDateTime, json_column


class AppRow(Base):
    __tablename__ = "apps"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    draft: Mapped[dict[str, Any]] = mapped_column(json_column())
    published_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @classmethod
    def from_record(cls, record: AppRecord) -> AppRow:
        return cls(
            id=record.id,
            workspace_id=record.workspace_id,
            draft=record.draft.model_dump(mode="json"),
            published_version=record.published_version,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    def to_record(self) -> AppRecord:
        return AppRecord(
            id=self.id,
            workspace_id=self.workspace_id,
            draft=AppSpec.model_validate(self.draft),
            published_version=self.published_version,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class AppVersionRow(Base):
    __tablename__ = "app_versions"
    __table_args__ = (
        UniqueConstraint("app_id", "version"),
        Index(None, "workspace_id", "app_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(json_column())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @classmethod
    def from_record(cls, record: AppVersionRecord) -> AppVersionRow:
        return cls(
            app_id=record.app_id,
            workspace_id=record.workspace_id,
            version=record.version,
            spec=record.spec.model_dump(mode="json"),
            created_at=record.created_at,
        )

    def to_record(self) -> AppVersionRecord:
        return AppVersionRecord(
            app_id=self.app_id,
            workspace_id=self.workspace_id,
            version=self.version,
            spec=AppSpec.model_validate(self.spec),
            created_at=self.created_at,
        )


class ConversationRow(Base):
    """A conversation; ``app_id`` has no foreign key: conversations outlive their app."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(None, "workspace_id", "updated_at"),
        Index(None, "workspace_id", "app_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    app_id: Mapped[str] = mapped_column(String)
    app_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, str]] = mapped_column(json_column())
    user_id: Mapped[str | None] = mapped_column(String)
    deleted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @classmethod
    def from_record(cls, record: ConversationRecord) -> ConversationRow:
        return cls(
            id=record.id,
            workspace_id=record.workspace_id,
            app_id=record.app_id,
            app_version=record.app_version,
            title=record.title,
            inputs=dict(record.inputs),
            user_id=record.user_id,
            deleted=record.deleted,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    def to_record(self) -> ConversationRecord:
        return ConversationRecord(
            id=self.id,
            workspace_id=self.workspace_id,
            app_id=self.app_id,
            app_version=self.app_version,
            title=self.title,
            inputs=self.inputs,
            user_id=self.user_id,
            deleted=self.deleted,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        Index(None, "workspace_id", "conversation_id"),
    )

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

    @classmethod
    def from_record(cls, record: MessageRecord) -> MessageRow:
        row = cls(id=record.id)
        row.fill(record)
        return row

    def fill(self, record: MessageRecord) -> None:
        """Overwrite every column but the id with the record's values."""
        self.conversation_id = record.conversation_id
        self.workspace_id = record.workspace_id
        self.seq = record.seq
        self.turn_id = record.turn_id
        self.role = record.role
        self.content = record.content
        self.status = record.status
        self.error = record.error
        self.usage = record.usage.model_dump(mode="json") if record.usage else None
        self.suggestions = list(record.suggestions)
        self.created_at = record.created_at

    def to_record(self) -> MessageRecord:
        return MessageRecord.model_validate(
            {
                "id": self.id,
                "conversation_id": self.conversation_id,
                "workspace_id": self.workspace_id,
                "seq": self.seq,
                "turn_id": self.turn_id,
                "role": self.role,
                "content": self.content,
                "status": self.status,
                "error": self.error,
                "usage": self.usage,
                "suggestions": self.suggestions,
                "created_at": self.created_at,
            }
        )


class SummaryRow(Base):
    __tablename__ = "summaries"
    __table_args__ = (Index(None, "workspace_id", "conversation_id"),)

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(String)
    text: Mapped[str] = mapped_column(Text)
    covers_until_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @staticmethod
    def values(record: SummaryRecord) -> dict[str, Any]:
        """The row's column values, for an upsert."""
        return {
            "conversation_id": record.conversation_id,
            "workspace_id": record.workspace_id,
            "text": record.text,
            "covers_until_seq": record.covers_until_seq,
            "updated_at": record.updated_at,
        }

    def to_record(self) -> SummaryRecord:
        return SummaryRecord(
            conversation_id=self.conversation_id,
            workspace_id=self.workspace_id,
            text=self.text,
            covers_until_seq=self.covers_until_seq,
            updated_at=self.updated_at,
        )


class PromptRow(Base):
    """What was sent to the model on one turn; ``id`` keeps the insertion order."""

    __tablename__ = "prompt_records"
    __table_args__ = (Index(None, "workspace_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String)
    turn_id: Mapped[str] = mapped_column(String)
    purpose: Mapped[str] = mapped_column(String(32))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(json_column())
    model: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @classmethod
    def from_record(cls, record: PromptRecord) -> PromptRow:
        return cls(
            conversation_id=record.conversation_id,
            workspace_id=record.workspace_id,
            turn_id=record.turn_id,
            purpose=record.purpose,
            messages=record.messages,
            model=record.model,
            created_at=record.created_at,
        )

    def to_record(self) -> PromptRecord:
        return PromptRecord.model_validate(
            {
                "turn_id": self.turn_id,
                "conversation_id": self.conversation_id,
                "workspace_id": self.workspace_id,
                "purpose": self.purpose,
                "messages": self.messages,
                "model": self.model,
                "created_at": self.created_at,
            }
        )
