"""One contract suite for every knowledge index (embedded LanceDB; Weaviate in its own module)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents.knowledge.index import IndexedChunk, KnowledgeIndexProtocol, SearchOptions
from tests.integration.weaviate import WeaviateServer

pytestmark = pytest.mark.integration
DIM = 384


def unit(*weights: float) -> list[float]:
    """A unit vector with the given leading weights (the rest zero)."""
    v = list(weights) + [0.0] * (DIM - len(weights))
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


CHUNKS = [
    IndexedChunk(
        id="c1",
        document_id="d1",
        chunk_index=0,
        text="北京是中华人民共和国的首都。",
        vector=unit(1, 0, 0),
        title="中国",
        tags=["lang=zh", "topic=geo"],
    ),
    IndexedChunk(
        id="c2",
        document_id="d1",
        chunk_index=1,
        text="上海是中国最大的城市之一。",
        vector=unit(0.9, 0.1, 0),
        title="中国",
        tags=["lang=zh", "topic=geo"],
    ),
    IndexedChunk(
        id="c3",
        document_id="d2",
        chunk_index=0,
        text="Ray Serve scales model serving on a cluster.",
        vector=unit(0, 1, 0),
        title="Ray",
        tags=["lang=en", "topic=tech"],
    ),
    IndexedChunk(
        id="c4",
        document_id="d2",
        chunk_index=1,
        text="llama.cpp runs small models on the CPU.",
        vector=unit(0, 0.8, 0.2),
        title="Ray",
        tags=["lang=en", "topic=tech"],
        parent_text="Section: engines. llama.cpp runs small models on the CPU.",
    ),
    IndexedChunk(
        id="c5",
        document_id="d3",
        chunk_index=0,
        text="Pandas eat bamboo in the mountains.",
        vector=unit(0, 0, 1),
        title="Zoo",
        tags=["lang=en", "topic=zoo"],
    ),
]


async def contract(index: KnowledgeIndexProtocol, kb: str, other_kb: str) -> None:
    await index.upsert(kb, CHUNKS)
    assert await index.count(kb) == 5
    assert await index.count(kb, "d2") == 2

    # vector: cosine similarity, nearest first
    hits = await index.search(kb, "", unit(1, 0.05, 0), SearchOptions(mode="vector", top_k=2))
    assert [h.id for h in hits] == ["c1", "c2"]
    assert hits[0].score == pytest.approx(0.9988, abs=0.01)

    # keyword: BM25 on jieba terms, Chinese and English
    hits = await index.search(kb, "首都", unit(0, 0, 1), SearchOptions(mode="keyword", top_k=3))
    assert hits[0].id == "c1"
    hits = await index.search(kb, "bamboo pandas", unit(1, 0, 0), SearchOptions(mode="keyword"))
    assert hits[0].id == "c5"

    # hybrid: alpha 1 is the vector order, alpha 0 the keyword order
    query_vec = unit(0, 1, 0)
    as_vector = await index.search(
        kb, "bamboo", query_vec, SearchOptions(mode="hybrid", alpha=1.0, top_k=1)
    )
    as_keyword = await index.search(
        kb, "bamboo", query_vec, SearchOptions(mode="hybrid", alpha=0.0, top_k=1)
    )
    assert as_vector[0].id == "c3" and as_keyword[0].id == "c5"
    mixed = await index.search(
        kb, "bamboo", query_vec, SearchOptions(mode="hybrid", alpha=0.5, top_k=5)
    )
    assert {h.id for h in mixed[:2]} == {"c3", "c5"} and all(0 <= h.score <= 1 for h in mixed)

    # filters and threshold
    only_zh = await index.search(
        kb, "", unit(0, 1, 0), SearchOptions(mode="vector", tags=["lang=zh"])
    )
    assert {h.id for h in only_zh} == {"c1", "c2"}
    only_d3 = await index.search(
        kb, "", unit(1, 0, 0), SearchOptions(mode="vector", document_ids=["d3"])
    )
    assert [h.id for h in only_d3] == ["c5"]
    close = await index.search(
        kb, "", unit(1, 0, 0), SearchOptions(mode="vector", score_threshold=0.9)
    )
    assert {h.id for h in close} == {"c1", "c2"}
    with_parent = await index.search(
        kb, "", unit(0, 0.8, 0.2), SearchOptions(mode="vector", top_k=1)
    )
    assert with_parent[0].parent_text and with_parent[0].parent_text.startswith("Section: engines")

    # re-upsert replaces, delete removes one document, knowledge bases are separate
    changed = CHUNKS[4].model_copy(update={"text": "Pandas sleep a lot."})
    await index.upsert(kb, [changed])
    assert await index.count(kb) == 5
    hits = await index.search(kb, "sleep", unit(0, 0, 1), SearchOptions(mode="keyword", top_k=1))
    assert hits[0].text == "Pandas sleep a lot."
    await index.optimize(kb)  # housekeeping changes no answer
    assert await index.count(kb) == 5
    hits = await index.search(kb, "sleep", unit(0, 0, 1), SearchOptions(mode="keyword", top_k=1))
    assert hits[0].text == "Pandas sleep a lot."
    await index.optimize(other_kb)  # nothing there: a no-op, not an error
    await index.delete_document(kb, "d1")
    assert await index.count(kb) == 3 and await index.count(kb, "d1") == 0
    assert await index.count(other_kb) == 0
    assert await index.search(other_kb, "首都", unit(1, 0, 0), SearchOptions()) == []
    await index.drop(kb)
    assert await index.count(kb) == 0
    assert await index.search(kb, "ray", unit(0, 1, 0), SearchOptions()) == []


@pytest.fixture
async def lancedb_index(tmp_path: Path) -> AsyncIterator[KnowledgeIndexProtocol]:
    from cluster.knowledge.lancedb_index import LanceDbIndex

    yield LanceDbIndex(tmp_path / "lance", dim=DIM)


async def test_in_memory_contract() -> None:
    from agents.knowledge.memory_index import InMemoryKnowledgeIndex

    await contract(InMemoryKnowledgeIndex(), "kb1", "kb2")


async def test_weaviate_contract(weaviate_server: WeaviateServer) -> None:
    from cluster.knowledge.weaviate_index import WeaviateIndex

    index = WeaviateIndex(weaviate_server.host, weaviate_server.port, weaviate_server.grpc_port)
    try:
        await contract(index, "kb1", "kb2")
    finally:
        await index.close()


async def test_lancedb_contract(lancedb_index: KnowledgeIndexProtocol) -> None:
    await contract(lancedb_index, "kb1", "kb2")


async def test_lancedb_builds_its_ann_index_and_keeps_recall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the threshold ``optimize`` builds the approximate index; vector search through
    it still finds the exact top 10; rows added later (and after a restart) are searchable
    by keyword and vector before and after the next optimize."""
    import numpy as np

    from cluster.knowledge import lancedb_index as module

    monkeypatch.setattr(module, "ANN_MIN_ROWS", 3000)
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((30, DIM))
    vectors = centres[rng.integers(0, 30, 3000)] + 0.6 * rng.standard_normal((3000, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [
        IndexedChunk(
            id=f"r{i}",
            document_id=f"d{i % 50}",
            chunk_index=i,
            text=f"row{i} 熊猫 bamboo",
            vector=vectors[i].tolist(),
        )  # fmt: skip
        for i in range(3000)
    ]
    index = module.LanceDbIndex(tmp_path / "lance", dim=DIM)
    for start in range(0, 3000, 1000):
        await index.upsert("big", chunks[start : start + 1000])
    await index.optimize("big")
    table = index._table("big")
    assert any(i.columns == ["vector"] and i.index_type == "IvfFlat" for i in table.list_indices())

    queries = vectors[rng.integers(0, 3000, 40)] + 0.3 * rng.standard_normal((40, DIM))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = 0
    for q, top in zip(queries, exact, strict=True):
        hits = await index.search("big", "", q.tolist(), SearchOptions(mode="vector", top_k=10))
        found += len({h.id for h in hits} & {f"r{i}" for i in top})
    assert found / 400 >= 0.95

    reopened = module.LanceDbIndex(tmp_path / "lance", dim=DIM)  # a restart
    late = IndexedChunk(
        id="late", document_id="dlate", chunk_index=0, text="迟到的 zebra", vector=unit(0, 0, 1)
    )
    await reopened.upsert("big", [late])
    for _ in range(2):
        hits = await reopened.search("big", "zebra", unit(0, 0, 1), SearchOptions(mode="keyword"))
        assert [h.id for h in hits] == ["late"]
        hits = await reopened.search(
            "big", "", unit(0, 0, 1), SearchOptions(mode="vector", top_k=1)
        )
        assert hits[0].id == "late"
        old = await reopened.search("big", "row17", unit(0, 0, 1), SearchOptions(mode="keyword"))
        assert old[0].id == "r17"
        await reopened.optimize("big")
    assert await reopened.count("big") == 3001
