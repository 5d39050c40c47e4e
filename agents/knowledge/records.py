"""Knowledge bases and their documents, as stored records (scoped by workspace)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.ids import utcnow

DocumentStatus = Literal["queued", "parsing", "indexing", "ready", "failed"]


class ChunkingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["general", "parent_child"] = Field(
        default="general",
        description="general: chunks are retrieved and given as they are; parent_child: small "
        "chunks are retrieved and their parent section is given to the model.",
    )
    max_tokens: int = Field(default=256, ge=16, le=4096, description="Chunk size (tokens).")
    overlap_tokens: int = Field(default=32, ge=0, le=1024, description="Overlap between chunks.")
    parent_max_tokens: int = Field(
        default=1024, ge=64, le=16384, description="parent_child: size of a parent section."
    )

    @model_validator(mode="after")
    def _sizes_agree(self) -> ChunkingSpec:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError("overlap_tokens must be smaller than max_tokens")
        if self.mode == "parent_child" and self.parent_max_tokens <= self.max_tokens:
            raise ValueError("parent_max_tokens must be larger than max_tokens")
        return self


class KnowledgeBaseRecord(BaseModel):
    id: str
    workspace_id: str
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    chunking: ChunkingSpec = Field(default_factory=ChunkingSpec)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DocumentRecord(BaseModel):
    id: str
    kb_id: str
    workspace_id: str
    name: str = Field(description="File name, or the page title for a URL.")
    source: Literal["upload", "url"] = "upload"
    url: str | None = None
    content_type: str = ""
    size_bytes: int = 0
    checksum: str = Field(default="", description="sha256 of the content; unchanged = no re-index.")
    status: DocumentStatus = "queued"
    error: str | None = Field(default=None, description="Why the document failed, readable.")
    error_code: str | None = None
    chunk_count: int = 0
    progress: float = Field(default=0.0, ge=0, le=1, description="Share of the work done.")
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
