"""What a chat turn needs from knowledge: ranked chunks for a question, across bases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from agents.engine import EngineProtocol
from agents.knowledge.embed_batcher import EmbedderProtocol
from agents.knowledge.index import KnowledgeIndexProtocol, ScoredChunk, SearchOptions
from agents.knowledge.rerank import LlmReranker
from agents.knowledge.store import KnowledgeStoreProtocol


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


class KnowledgeRetriever:
    """RetrieverProtocol: embeds the question once, searches each knowledge base, and
    keeps the best chunks of all of them (reranked by a model when asked)."""

    def __init__(
        self,
        store: KnowledgeStoreProtocol,
        index: KnowledgeIndexProtocol,
        embedder: EmbedderProtocol,
        engine_for: Callable[[str], EngineProtocol] | None = None,
        default_model: str = "",
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.engine_for = engine_for
        self.default_model = default_model

    async def retrieve(
        self, workspace_id: str, kb_ids: list[str], query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        for kb_id in kb_ids:  # refuses another workspace's (or a deleted) base
            await self.store.get_kb(workspace_id, kb_id)
        vector = (await self.embedder.embed([query], "query"))[0]
        wanted = max(options.top_k, options.rerank_candidates) if options.rerank else options.top_k
        search = options.model_copy(update={"top_k": wanted})
        per_kb = await asyncio.gather(
            *(self.index.search(kb_id, query, vector, search) for kb_id in kb_ids)
        )
        found = [
            RetrievedChunk(kb_id=kb_id, chunk=chunk)
            for kb_id, chunks in zip(kb_ids, per_kb, strict=True)
            for chunk in chunks
        ]
        found.sort(key=lambda item: -item.chunk.score)
        found = found[:wanted]
        if options.rerank and found and self.engine_for is not None:
            model = options.rerank_model or self.default_model
            kb_of = {item.chunk.id: item.kb_id for item in found}
            reranked = await LlmReranker(self.engine_for(model), model).rerank(
                query, [item.chunk for item in found], options.top_k
            )
            return [RetrievedChunk(kb_id=kb_of[c.id], chunk=c) for c in reranked]
        return found[: options.top_k]
