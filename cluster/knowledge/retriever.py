"""Knowledge on Ray: the embedder over the embedding deployment, the index from settings,
and the retriever chat turns use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

from ray.serve.handle import DeploymentHandle

from agents.engine import EngineProtocol
from agents.errors import UpstreamError
from agents.knowledge.index import KnowledgeIndexProtocol, SearchOptions
from agents.knowledge.rerank import LlmReranker
from agents.knowledge.retriever import RetrievedChunk
from agents.knowledge.store import KnowledgeStoreProtocol
from cluster.engines.handle_engine import call
from cluster.settings import ChorusSettings


class HandleEmbedder:
    """Embeddings from the EmbeddingDeployment; its replicas share concurrent batches."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle

    async def embed(
        self, texts: list[str], input_type: Literal["query", "passage"]
    ) -> list[list[float]]:
        result = await call(self._handle.embed.remote(texts, input_type))
        if len(result.vectors) != len(texts):
            raise UpstreamError("the embedder returned a different number of vectors")
        return result.vectors  # type: ignore[no-any-return]


def open_index(settings: ChorusSettings) -> KnowledgeIndexProtocol:
    if settings.knowledge_index == "weaviate":
        from cluster.knowledge.weaviate_index import WeaviateIndex

        return WeaviateIndex(
            settings.weaviate_host, settings.weaviate_port, settings.weaviate_grpc_port
        )
    from cluster.knowledge.lancedb_index import LanceDbIndex

    return LanceDbIndex(settings.data_dir / "lancedb")


class KnowledgeRetriever:
    """RetrieverProtocol: embeds the question once, searches each knowledge base, and
    keeps the best chunks of all of them."""

    def __init__(
        self,
        store: KnowledgeStoreProtocol,
        index: KnowledgeIndexProtocol,
        embedder: HandleEmbedder,
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
