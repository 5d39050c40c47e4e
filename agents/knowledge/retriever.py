"""What a chat turn needs from knowledge: ranked chunks for a question, across bases."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from agents.knowledge.index import ScoredChunk, SearchOptions


class RetrievedChunk(BaseModel):
    kb_id: str
    chunk: ScoredChunk


@runtime_checkable
class RetrieverProtocol(Protocol):
    async def retrieve(
        self, workspace_id: str, kb_ids: list[str], query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        """The best chunks of all ``kb_ids`` together, best first, at most ``top_k``.
        Knowledge bases of another workspace are not searched (NotFoundError)."""
        ...


def context_block(chunks: list[RetrievedChunk]) -> str:
    """The retrieved chunks as numbered context for the system prompt."""
    lines = [
        "Answer using the context below. If the context does not contain the answer, "
        "say that you don't know. Cite sources as [n].",
        "",
    ]
    for i, item in enumerate(chunks, start=1):
        text = item.chunk.parent_text or item.chunk.text
        title = f" ({item.chunk.title})" if item.chunk.title else ""
        lines.append(f"[{i}]{title} {text}")
    return "\n".join(lines)
