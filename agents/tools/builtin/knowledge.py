"""search_knowledge: hybrid search over the knowledge bases an app may read."""

from __future__ import annotations

from typing import Any

from agents.knowledge.index import SearchOptions
from agents.knowledge.retriever import RetrieverProtocol
from agents.tools.base import BaseTool


class KnowledgeSearchTool(BaseTool):
    name = "search_knowledge"
    description = "Search the knowledge bases for passages relevant to a query."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for."},
            "top_k": {"type": "integer", "minimum": 1, "maximum": 20, "default": 4},
        },
        "required": ["query"],
        "additionalProperties": False,
    }

    def __init__(self, retriever: RetrieverProtocol, workspace_id: str, kb_ids: list[str]) -> None:
        self.retriever = retriever
        self.workspace_id = workspace_id
        self.kb_ids = list(kb_ids)

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if not self.kb_ids:
            return {"results": [], "note": "no knowledge base is attached"}
        options = SearchOptions(top_k=int(arguments.get("top_k", 4)))
        found = await self.retriever.retrieve(
            self.workspace_id, self.kb_ids, arguments["query"], options
        )
        return {
            "results": [
                {
                    "content": item.chunk.parent_text or item.chunk.text,
                    "title": item.chunk.title,
                    "document_id": item.chunk.document_id,
                    "kb_id": item.kb_id,
                    "score": round(item.chunk.score, 4),
                }
                for item in found
            ]
        }
