"""Settings of the knowledge-retrieval node."""

from __future__ import annotations

from pydantic import Field

from agents.knowledge.index import SearchMode
from agents.workflows.nodes.base import BaseNodeData


class KnowledgeRetrievalNodeData(BaseNodeData):
    query_variable_selector: list[str] = Field(
        min_length=2, description="The text to search for: [node_id, output, ...path]."
    )
    dataset_ids: list[str] = Field(
        default_factory=list,
        description="Knowledge base ids of this workspace to search together (none: no result).",
    )
    top_k: int = Field(default=4, ge=1, le=200, description="How many chunks to return.")
    score_threshold: float | None = Field(
        default=None, description="Drop chunks scoring below this (in the mode's scale)."
    )
    mode: SearchMode = Field(default="hybrid", description="vector, keyword or hybrid search.")
    alpha: float = Field(
        default=0.5, ge=0, le=1, description="Hybrid weight of the vector side (1 = vector only)."
    )
