"""The tables of knowledge bases and their documents (chunks and vectors live in the
knowledge index); each row holds one record (see RecordRow)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agents.knowledge.records import DocumentRecord, KnowledgeBaseRecord
from cluster.store.tables.base import OwnedRow, RecordRow, UtcDateTime, json_column


class KnowledgeBaseRow(OwnedRow, RecordRow[KnowledgeBaseRecord]):
    """A knowledge base; ``chunking`` is its chunking spec, as JSON."""

    __tablename__ = "knowledge_bases"
    __table_args__ = (Index(None, "workspace_id"),)
    record_model = KnowledgeBaseRecord

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    chunking: Mapped[dict[str, Any]] = mapped_column(json_column())


class DocumentRow(RecordRow[DocumentRecord]):
    """A knowledge base's document; its chunks and vectors live in the knowledge index."""

    __tablename__ = "documents"
    __table_args__ = (Index(None, "workspace_id", "kb_id"),)
    record_model = DocumentRecord

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
