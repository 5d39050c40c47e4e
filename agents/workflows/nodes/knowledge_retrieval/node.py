"""The knowledge-retrieval node: the best chunks of some knowledge bases for a query."""

from __future__ import annotations

from typing import Any

from agents.knowledge.index import SearchOptions
from agents.knowledge.retriever import RetrievedChunk, RetrieverProtocol
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference
from agents.workflows.nodes.knowledge_retrieval.dify import map_knowledge_retrieval
from agents.workflows.nodes.knowledge_retrieval.entities import KnowledgeRetrievalNodeData
from agents.workflows.variables import VarType, to_text


class KnowledgeRetrievalNode(BaseNode[KnowledgeRetrievalNodeData]):
    type = "knowledge-retrieval"
    data_model = KnowledgeRetrievalNodeData
    dify = DifyMapping(("knowledge-retrieval",), map_knowledge_retrieval)

    def output_types(self) -> dict[str, VarType]:
        return {"result": "array[object]"}

    def references(self) -> list[Reference]:
        return [Reference(self.data.query_variable_selector, "query_variable_selector", {"string"})]

    async def run(self, ctx: NodeContext) -> NodeResult:
        data = self.data
        query = to_text(ctx.pool.get(data.query_variable_selector))
        inputs = {"query": query, "dataset_ids": list(data.dataset_ids)}
        if not data.dataset_ids or not query.strip():
            return NodeResult(outputs={"result": []}, inputs=inputs)
        retriever: RetrieverProtocol = ctx.services.need("retriever")
        options = SearchOptions(
            mode=data.mode, top_k=data.top_k, alpha=data.alpha, score_threshold=data.score_threshold
        )
        chunks = await retriever.retrieve(
            ctx.services.workspace_id, list(data.dataset_ids), query, options
        )
        return NodeResult(outputs={"result": [result_item(c) for c in chunks]}, inputs=inputs)


def result_item(item: RetrievedChunk) -> dict[str, Any]:
    """One retrieved chunk as an element of the ``result`` output."""
    chunk = item.chunk
    return {
        "content": chunk.parent_text or chunk.text,
        "title": chunk.title,
        "document_id": chunk.document_id,
        "kb_id": item.kb_id,
        "chunk_id": chunk.id,
        "score": chunk.score,
    }
