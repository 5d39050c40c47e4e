"""The knowledge index contract: chunks with vectors in, ranked chunks out.

Two implementations (LanceDB embedded, Weaviate server) run one contract suite.
Scores: ``vector`` is cosine similarity, ``keyword`` is BM25, ``hybrid`` is
relative-score fusion of both (each list min-max normalised, weighted by ``alpha``,
1.0 = vector only), so a threshold means the same on either store.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from agents import error_codes
from agents.errors import UpstreamUnavailableError

SearchMode = Literal["vector", "keyword", "hybrid"]


class IndexUnavailableError(UpstreamUnavailableError):
    """The index failed or cannot be reached (any implementation raises this)."""

    code = error_codes.INDEX_UNAVAILABLE


class IndexedChunk(BaseModel):
    id: str = Field(description="Unique chunk id.")
    document_id: str
    chunk_index: int = Field(ge=0)
    text: str
    vector: list[float]
    parent_text: str | None = Field(default=None, description="Parent-child mode: the section.")
    title: str = ""
    tags: list[str] = Field(default_factory=list, description="'key=value' metadata to filter on.")


class SearchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: SearchMode = Field(default="hybrid", description="vector, keyword or hybrid.")
    top_k: int = Field(default=5, ge=1, le=200, description="How many chunks to return.")
    alpha: float = Field(
        default=0.5, ge=0, le=1, description="Hybrid weight of the vector side (1 = vector only)."
    )
    score_threshold: float | None = Field(
        default=None, description="Drop chunks scoring below this (in the mode's scale)."
    )
    document_ids: list[str] | None = Field(default=None, description="Only these documents.")
    tags: list[str] = Field(
        default_factory=list, description="Only chunks with all these 'key=value' tags."
    )
    rerank: bool = Field(
        default=False,
        description="Let the chat model grade the candidates and reorder them (slower).",
    )
    rerank_candidates: int = Field(
        default=10, ge=1, le=50, description="With rerank: how many candidates are graded."
    )
    rerank_model: str | None = Field(
        default=None,
        description="With rerank: the model that grades (default: the server's first).",
    )


class ScoredChunk(BaseModel):
    id: str
    document_id: str
    chunk_index: int
    text: str
    parent_text: str | None = None
    title: str = ""
    score: float


@runtime_checkable
class KnowledgeIndexProtocol(Protocol):
    async def upsert(self, kb_id: str, chunks: list[IndexedChunk]) -> None: ...

    async def delete_document(self, kb_id: str, document_id: str) -> None: ...

    async def optimize(self, kb_id: str) -> None:
        """Housekeeping after writes (compaction, index builds); searches are correct
        without it. Called once ingestion into ``kb_id`` settles."""
        ...

    async def drop(self, kb_id: str) -> None: ...

    async def count(self, kb_id: str, document_id: str | None = None) -> int: ...

    async def search(
        self, kb_id: str, query: str, vector: list[float], options: SearchOptions
    ) -> list[ScoredChunk]: ...
