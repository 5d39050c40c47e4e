from agents.errors import UpstreamUnavailableError
from agents.knowledge.index import ScoredChunk
from agents.knowledge.rerank import LlmReranker
from agents.scripted_engine import ScriptedEngine, ScriptedReply


def chunk(i: int) -> ScoredChunk:
    return ScoredChunk(
        id=f"c{i}", document_id="d", chunk_index=i, text=f"passage {i}", score=1 - i / 10
    )


async def test_model_grades_reorder_the_candidates() -> None:
    engine = ScriptedEngine(
        ['{"relevance": 2}', '{"relevance": 9}', "not json", '{"relevance": 9}']
    )
    out = await LlmReranker(engine, "m").rerank("question?", [chunk(i) for i in range(4)], top_k=3)
    assert [c.id for c in out] == ["c1", "c3", "c0"]  # ties keep retrieval order
    assert [c.score for c in out] == [0.9, 0.9, 0.2]
    assert all(r.response_format is not None for r in engine.requests)
    assert "question?" in engine.requests[0].messages[-1].text()


async def test_engine_failure_grades_zero() -> None:
    engine = ScriptedEngine(
        [ScriptedReply(error=UpstreamUnavailableError("down")), '{"relevance": 5}']
    )
    out = await LlmReranker(engine, "m").rerank("q", [chunk(0), chunk(1)], top_k=2)
    assert [c.id for c in out] == ["c1", "c0"] and out[1].score == 0.0
