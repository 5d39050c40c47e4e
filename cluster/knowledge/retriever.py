"""Knowledge on Ray: the embedder over the embedding deployment, the index from settings,
and the retriever chat turns use."""

from __future__ import annotations

import asyncio
from typing import Literal

from ray.serve.handle import DeploymentHandle

from agents.errors import UpstreamError
from agents.knowledge.index import KnowledgeIndexProtocol, SearchOptions
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
        self, store: KnowledgeStoreProtocol, index: KnowledgeIndexProtocol, embedder: HandleEmbedder
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder

    async def retrieve(
        self, workspace_id: str, kb_ids: list[str], query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        for kb_id in kb_ids:  # refuses another workspace's (or a deleted) base
            await self.store.get_kb(workspace_id, kb_id)
        vector = (await self.embedder.embed([query], "query"))[0]
        per_kb = await asyncio.gather(
            *(self.index.search(kb_id, query, vector, options) for kb_id in kb_ids)
        )
        found = [
            RetrievedChunk(kb_id=kb_id, chunk=chunk)
            for kb_id, chunks in zip(kb_ids, per_kb, strict=True)
            for chunk in chunks
        ]
        found.sort(key=lambda item: -item.chunk.score)
        return found[: options.top_k]
