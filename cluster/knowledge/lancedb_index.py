"""The embedded knowledge index: LanceDB tables in the data directory.

One table per knowledge base (``kb_<id>``): vectors (cosine), a native full-text
index on the jieba-cut ``terms`` column (BM25), and a ``tags`` list for filters.
Hybrid search fuses both rankings (:mod:`agents.knowledge.fusion`). LanceDB calls
block, so they run in a thread; writes to one table are serialised.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import structlog
from lancedb.db import LanceDBConnection
from lancedb.index import FTS, IvfFlat
from lancedb.table import LanceTable

from agents.errors import InvalidInputError
from agents.knowledge.fusion import fuse
from agents.knowledge.index import IndexedChunk, IndexUnavailableError, ScoredChunk, SearchOptions
from agents.knowledge.terms import terms

log = structlog.get_logger(__name__)
_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
#: Rows after which an approximate vector index is built (below it, exact search is fast).
ANN_MIN_ROWS = 50_000
#: The approximate index is IVF_FLAT: k-means partitions of the full vectors; a query
#: scans the ``ANN_NPROBES`` nearest partitions exactly. Measured here on 100k vectors
#: with the spectrum of real e5 embeddings (docs/benchmarks.md, "Retrieval"): recall@10
#: 0.998 at 9 ms p50 and a 3 s build, where IVF_HNSW_SQ at its defaults found 29-40 %
#: (91-94 % with ef 300-400 and refining) after a 70 s build, and IVF_PQ 53-69 %.
ANN_NPROBES = 20
#: A row as written: the values of :meth:`LanceDbIndex._schema`'s columns.
Row = dict[str, str | int | list[str] | list[float] | None]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class LanceDbIndex:
    def __init__(self, path: Path, dim: int = 384) -> None:
        import lancedb

        path.mkdir(parents=True, exist_ok=True)
        db = lancedb.connect(str(path))
        if not isinstance(db, LanceDBConnection):  # what a local directory always opens
            raise TypeError(f"lancedb opened {type(db).__name__} for {path}")
        self._db = db
        self.dim = dim
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._fts_ready: set[str] = set()

    def _schema(self) -> pa.Schema:
        return pa.schema(
            [
                ("id", pa.string()),
                ("document_id", pa.string()),
                ("chunk_index", pa.int32()),
                ("text", pa.string()),
                ("terms", pa.string()),
                ("parent_text", pa.string()),
                ("title", pa.string()),
                ("tags", pa.list_(pa.string())),
                ("vector", pa.list_(pa.float32(), self.dim)),
            ]
        )

    def _exists(self, name: str) -> bool:
        return name in self._db.list_tables().tables

    @staticmethod
    def _name(kb_id: str) -> str:
        if not _SAFE.match(kb_id):
            raise InvalidInputError(f"invalid knowledge base id {kb_id!r}", param="kb_id")
        return f"kb_{kb_id}"

    def _table(self, kb_id: str) -> LanceTable | None:
        """The knowledge base's table, or None before its first chunks."""
        name = self._name(kb_id)
        try:
            return self._db.open_table(name) if self._exists(name) else None
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexUnavailableError(f"the embedded index failed: {exc}") from exc

    def _new_table(self, kb_id: str) -> LanceTable:
        """The knowledge base's table, created if it does not exist yet."""
        name = self._name(kb_id)
        try:
            return self._db.create_table(name, schema=self._schema(), exist_ok=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexUnavailableError(f"the embedded index failed: {exc}") from exc

    async def upsert(self, kb_id: str, chunks: list[IndexedChunk]) -> None:
        if not chunks:
            return
        for chunk in chunks:
            if len(chunk.vector) != self.dim:
                raise InvalidInputError(
                    f"chunk {chunk.id} has a {len(chunk.vector)}-dimensional vector; "
                    f"the index holds {self.dim}"
                )
        rows: list[Row] = [
            {
                "id": c.id,
                "document_id": c.document_id,
                "chunk_index": c.chunk_index,
                "text": c.text,
                "terms": terms(c.text),
                "parent_text": c.parent_text,
                "title": c.title,
                "tags": c.tags,
                "vector": c.vector,
            }
            for c in chunks
        ]
        ids = ", ".join(_quote(c.id) for c in chunks)
        async with self._locks[kb_id]:
            await asyncio.to_thread(self._upsert, kb_id, f"id IN ({ids})", rows)

    def _upsert(self, kb_id: str, replaced: str, rows: list[Row]) -> None:
        table = self._new_table(kb_id)
        table.delete(replaced)
        table.add(rows)
        if kb_id not in self._fts_ready:
            # After a restart the index is on disk already: only the first rows create it;
            # rows added later are searched unindexed until ``optimize`` folds them in.
            if not any(i.columns == ["terms"] for i in table.list_indices()):
                table.create_index(
                    "terms",
                    config=FTS(
                        base_tokenizer="whitespace",
                        lower_case=False,
                        stem=False,
                        remove_stop_words=False,
                        ascii_folding=False,
                        with_position=False,
                        max_token_length=None,
                    ),
                    replace=True,
                )
            self._fts_ready.add(kb_id)

    async def optimize(self, kb_id: str) -> None:
        """Compact the table's small fragments (one per upsert), fold new rows into the
        full-text and vector indexes, and build the approximate vector index once the
        table is big enough for exact search to be slow. The knowledge worker calls it
        after ingestion settles; searches stay correct without it (unindexed rows are
        searched exhaustively), only slower."""
        async with self._locks[kb_id]:
            await asyncio.to_thread(self._optimize, kb_id)

    def _optimize(self, kb_id: str) -> None:
        table = self._table(kb_id)
        if table is None:
            return
        table.optimize()
        has_vector_index = any(i.columns == ["vector"] for i in table.list_indices())
        if not has_vector_index and table.count_rows() >= ANN_MIN_ROWS:
            table.create_index("vector", config=IvfFlat(distance_type="cosine"))
            log.info("vector_index_built", kb_id=kb_id)

    async def delete_document(self, kb_id: str, document_id: str) -> None:
        async with self._locks[kb_id]:
            await asyncio.to_thread(self._delete, kb_id, f"document_id = {_quote(document_id)}")

    def _delete(self, kb_id: str, where: str) -> None:
        table = self._table(kb_id)
        if table is not None:
            table.delete(where)

    async def drop(self, kb_id: str) -> None:
        async with self._locks[kb_id]:
            name = self._name(kb_id)
            if self._exists(name):
                await asyncio.to_thread(self._db.drop_table, name)
            self._fts_ready.discard(kb_id)

    async def count(self, kb_id: str, document_id: str | None = None) -> int:
        table = self._table(kb_id)
        if table is None:
            return 0
        where = f"document_id = {_quote(document_id)}" if document_id else None
        return int(await asyncio.to_thread(table.count_rows, where))

    async def search(
        self, kb_id: str, query: str, vector: list[float], options: SearchOptions
    ) -> list[ScoredChunk]:
        table = self._table(kb_id)
        if table is None:
            return []
        where = self._where(options)
        pool = max(options.top_k * 4, 20) if options.mode == "hybrid" else options.top_k
        vector_hits: list[ScoredChunk] = []
        keyword_hits: list[ScoredChunk] = []
        if options.mode in ("vector", "hybrid"):
            vector_hits = await asyncio.to_thread(self._vector, table, vector, pool, where)
        if options.mode in ("keyword", "hybrid"):
            keyword_hits = await asyncio.to_thread(self._keyword, table, query, pool, where)
        if options.mode == "vector":
            hits = vector_hits
        elif options.mode == "keyword":
            hits = keyword_hits
        else:
            hits = fuse(vector_hits, keyword_hits, options.alpha, options.top_k)
        if options.score_threshold is not None:
            hits = [h for h in hits if h.score >= options.score_threshold]
        return hits[: options.top_k]

    @staticmethod
    def _where(options: SearchOptions) -> str | None:
        clauses = []
        if options.document_ids is not None:
            ids = ", ".join(_quote(d) for d in options.document_ids) or "''"
            clauses.append(f"document_id IN ({ids})")
        clauses += [f"array_has(tags, {_quote(tag)})" for tag in options.tags]
        return " AND ".join(clauses) or None

    @staticmethod
    def _vector(
        table: LanceTable, vector: list[float], k: int, where: str | None
    ) -> list[ScoredChunk]:
        query = (
            table.search(vector, vector_column_name="vector")
            .distance_type("cosine")
            .nprobes(ANN_NPROBES)
            .limit(k)
        )
        if where:
            query = query.where(where, prefilter=True)
        return [_scored(row, 1.0 - float(row["_distance"])) for row in query.to_list()]

    @staticmethod
    def _keyword(table: LanceTable, text: str, k: int, where: str | None) -> list[ScoredChunk]:
        words = terms(text)
        if not words:
            return []
        query = table.search(words, query_type="fts", fts_columns="terms").limit(k)
        if where:
            query = query.where(where, prefilter=True)
        return [_scored(row, float(row["_score"])) for row in query.to_list()]


def _scored(row: dict[str, Any], score: float) -> ScoredChunk:
    return ScoredChunk(
        id=row["id"],
        document_id=row["document_id"],
        chunk_index=int(row["chunk_index"]),
        text=row["text"],
        parent_text=row.get("parent_text"),
        title=row.get("title") or "",
        score=score,
    )
