"""The rerank step with the real local model: constrained grades come back and order the chunks."""

import pytest

from agents.knowledge.index import ScoredChunk
from agents.knowledge.rerank import LlmReranker
from cluster.engines.openai_engine import OpenAICompatibleEngine

pytestmark = pytest.mark.integration


async def test_real_model_grades_every_candidate(llama_engine: OpenAICompatibleEngine) -> None:
    texts = [
        "The zoo opens at nine in the morning.",
        "Bananas are rich in potassium.",
        "Giant pandas eat bamboo.",
    ]
    chunks = [
        ScoredChunk(id=f"c{i}", document_id="d", chunk_index=i, text=t, score=0.5)
        for i, t in enumerate(texts)
    ]
    reranker = LlmReranker(llama_engine, "smollm2-135m-instruct")
    grades = [await reranker.grade("When does the zoo open?", c) for c in chunks]
    assert all(0.0 <= g <= 1.0 for g in grades)
    out = await reranker.rerank("When does the zoo open?", chunks, top_k=3)
    assert sorted(c.id for c in out) == ["c0", "c1", "c2"]
    assert [c.score for c in out] == sorted(grades, reverse=True)
