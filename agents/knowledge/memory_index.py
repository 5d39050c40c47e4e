"""An in-memory knowledge index (exact cosine, BM25 over the same terms), for unit tests.

It runs the same contract suite as LanceDB and Weaviate.
"""

from __future__ import annotations

import math
from collections import Counter

from agents.knowledge.fusion import fuse
from agents.knowledge.index import IndexedChunk, ScoredChunk, SearchOptions
from agents.knowledge.terms import terms


class InMemoryKnowledgeIndex:
    def __init__(self) -> None:
        self.kbs: dict[str, dict[str, IndexedChunk]] = {}

    async def upsert(self, kb_id: str, chunks: list[IndexedChunk]) -> None:
        table = self.kbs.setdefault(kb_id, {})
        for chunk in chunks:
            table[chunk.id] = chunk.model_copy(deep=True)

    async def delete_document(self, kb_id: str, document_id: str) -> None:
        table = self.kbs.get(kb_id, {})
        for cid in [c.id for c in table.values() if c.document_id == document_id]:
            del table[cid]

    async def optimize(self, kb_id: str) -> None:
        """Nothing to do: search is exact over a dict."""

    async def drop(self, kb_id: str) -> None:
        self.kbs.pop(kb_id, None)

    async def count(self, kb_id: str, document_id: str | None = None) -> int:
        chunks = self.kbs.get(kb_id, {}).values()
        return sum(1 for c in chunks if document_id is None or c.document_id == document_id)

    async def search(
        self, kb_id: str, query: str, vector: list[float], options: SearchOptions
    ) -> list[ScoredChunk]:
        chunks = [c for c in self.kbs.get(kb_id, {}).values() if _matches(c, options)]
        pool = max(options.top_k * 4, 20) if options.mode == "hybrid" else options.top_k
        vector_hits = _vector(chunks, vector, pool) if options.mode != "keyword" else []
        keyword_hits = _bm25(chunks, query, pool) if options.mode != "vector" else []
        if options.mode == "vector":
            hits = vector_hits
        elif options.mode == "keyword":
            hits = keyword_hits
        else:
            hits = fuse(vector_hits, keyword_hits, options.alpha, options.top_k)
        if options.score_threshold is not None:
            hits = [h for h in hits if h.score >= options.score_threshold]
        return hits[: options.top_k]


def _matches(chunk: IndexedChunk, options: SearchOptions) -> bool:
    if options.document_ids is not None and chunk.document_id not in options.document_ids:
        return False
    return all(tag in chunk.tags for tag in options.tags)


def _scored(chunk: IndexedChunk, score: float) -> ScoredChunk:
    return ScoredChunk(
        id=chunk.id,
        document_id=chunk.document_id,
        chunk_index=chunk.chunk_index,
        text=chunk.text,
        parent_text=chunk.parent_text,
        title=chunk.title,
        score=score,
    )


def _vector(chunks: list[IndexedChunk], vector: list[float], k: int) -> list[ScoredChunk]:
    qn = math.sqrt(sum(x * x for x in vector)) or 1.0
    scored = []
    for c in chunks:
        cn = math.sqrt(sum(x * x for x in c.vector)) or 1.0
        scored.append(
            _scored(c, sum(a * b for a, b in zip(vector, c.vector, strict=False)) / (qn * cn))
        )
    return sorted(scored, key=lambda h: -h.score)[:k]


def _bm25(
    chunks: list[IndexedChunk], query: str, k: int, k1: float = 1.2, b: float = 0.75
) -> list[ScoredChunk]:
    words = terms(query).split()
    if not words or not chunks:
        return []
    docs = [terms(c.text).split() for c in chunks]
    avg = sum(len(d) for d in docs) / len(docs)
    df = Counter(w for d in docs for w in set(d))
    n = len(docs)
    scored = []
    for chunk, doc in zip(chunks, docs, strict=True):
        tf = Counter(doc)
        score = 0.0
        for w in words:
            if tf[w]:
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                score += idf * tf[w] * (k1 + 1) / (tf[w] + k1 * (1 - b + b * len(doc) / avg))
        if score > 0:
            scored.append(_scored(chunk, score))
    return sorted(scored, key=lambda h: -h.score)[:k]
