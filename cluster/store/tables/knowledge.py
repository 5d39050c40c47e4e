"""The tables of knowledge bases and their documents (chunks and vectors live in the
knowledge index)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from cluster.store.tables.base import Base, UtcDateTime, json_column


class KnowledgeBaseRow(Base):
    __tablename__ = "knowledge_bases"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    chunking: Mapped[dict[str, Any]] = mapped_column(json_column())
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
    meta: Mapped[dict[str, str]] = mapped_column("metadata", json_column())
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
