"""The store's tables as SQLAlchemy 2 declarative rows, and their mapping to records.

Every table carries ``workspace_id`` and is indexed by it first: every query is
scoped by a workspace. Timestamps are stored in UTC and always read back
timezone-aware (SQLite keeps no zone). The hand-written migrations in
``migrations/versions`` create exactly these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from agents.apps.spec import AppSpec
from agents.conversation.records import (
    AppRecord,
    AppVersionRecord,
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
    utcnow,
)
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord

#: Deterministic constraint names, the same on every backend (migrations refer to them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend; naive input is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json() -> JSON:
    return JSON(none_as_null=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AppRow(Base):
    __tablename__ = "apps"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    draft: Mapped[dict[str, Any]] = mapped_column(_json())
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
    spec: Mapped[dict[str, Any]] = mapped_column(_json())
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
    inputs: Mapped[dict[str, str]] = mapped_column(_json())
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
    error: Mapped[dict[str, Any] | None] = mapped_column(_json())
    usage: Mapped[dict[str, Any] | None] = mapped_column(_json())
    suggestions: Mapped[list[str]] = mapped_column(_json())
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
    messages: Mapped[list[dict[str, Any]]] = mapped_column(_json())
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


class KnowledgeBaseRow(Base):
    __tablename__ = "knowledge_bases"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    chunking: Mapped[dict[str, Any]] = mapped_column(_json())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @classmethod
    def from_record(cls, record: KnowledgeBaseRecord) -> KnowledgeBaseRow:
        return cls(
            id=record.id,
            workspace_id=record.workspace_id,
            name=record.name,
            description=record.description,
            chunking=record.chunking.model_dump(mode="json"),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    def to_record(self) -> KnowledgeBaseRecord:
        return KnowledgeBaseRecord(
            id=self.id,
            workspace_id=self.workspace_id,
            name=self.name,
            description=self.description,
            chunking=ChunkingSpec.model_validate(self.chunking),
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class DocumentRow(Base):
    """A knowledge base's document; its chunks and vectors live in the knowledge index."""

    __tablename__ = "documents"
    __table_args__ = (Index(None, "workspace_id", "kb_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String)
    chunk_count: Mapped[int] = mapped_column(Integer)
    progress: Mapped[float] = mapped_column(Float)
    #: ``metadata`` is reserved on declarative classes; the column keeps the name.
    meta: Mapped[dict[str, str]] = mapped_column("metadata", _json())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @classmethod
    def from_record(cls, record: DocumentRecord) -> DocumentRow:
        row = cls(id=record.id)
        row.fill(record)
        return row

    def fill(self, record: DocumentRecord) -> None:
        """Overwrite every column but the id with the record's values."""
        self.kb_id = record.kb_id
        self.workspace_id = record.workspace_id
        self.name = record.name
        self.source = record.source
        self.url = record.url
        self.content_type = record.content_type
        self.size_bytes = record.size_bytes
        self.checksum = record.checksum
        self.status = record.status
        self.error = record.error
        self.error_code = record.error_code
        self.chunk_count = record.chunk_count
        self.progress = record.progress
        self.meta = dict(record.metadata)
        self.created_at = record.created_at
        self.updated_at = record.updated_at

    def to_record(self) -> DocumentRecord:
        return DocumentRecord.model_validate(
            {
                "id": self.id,
                "kb_id": self.kb_id,
                "workspace_id": self.workspace_id,
                "name": self.name,
                "source": self.source,
                "url": self.url,
                "content_type": self.content_type,
                "size_bytes": self.size_bytes,
                "checksum": self.checksum,
                "status": self.status,
                "error": self.error,
                "error_code": self.error_code,
                "chunk_count": self.chunk_count,
                "progress": self.progress,
                "metadata": self.meta,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }
        )


class WorkflowRow(Base):
    """A workflow; its graph is the ``spec`` JSON (agents.workflows.graph.WorkflowSpec)."""

    __tablename__ = "workflows"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(_json())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkflowRunRow(Base):
    """One run of a workflow; ``record`` is the whole WorkflowRunRecord as JSON."""

    __tablename__ = "workflow_runs"
    __table_args__ = (Index(None, "workspace_id", "workflow_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String)
    workspace_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(_json())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkflowNodeRunRow(Base):
    """One node execution of a run; ``record`` is the whole NodeRunRecord as JSON."""

    __tablename__ = "workflow_node_runs"
    __table_args__ = (Index(None, "run_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(_json())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ToolProviderRow(Base):
    """A workspace's custom tools (an imported OpenAPI spec); the secret is encrypted."""

    __tablename__ = "tool_providers"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(_json())
    auth: Mapped[dict[str, Any]] = mapped_column(_json())
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CrewRow(Base):
    """A crew (CrewAI agents and tasks); ``spec`` is the crew spec as JSON."""

    __tablename__ = "crews"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(_json())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CrewRunRow(Base):
    """One run of a crew; ``record`` is the whole run record as JSON."""

    __tablename__ = "crew_runs"
    __table_args__ = (Index(None, "workspace_id", "crew_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    crew_id: Mapped[str] = mapped_column(String)
    workspace_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(_json())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
