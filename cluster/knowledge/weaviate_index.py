"""The cluster knowledge index: a Weaviate server, with vectors we compute ourselves.

One collection per knowledge base (``Kb_<id>``), not multi-tenancy per workspace:
BM25 statistics (document frequencies) then belong to one knowledge base, so one
large base cannot skew another's keyword scores; dropping a base is dropping its
collection; and bases can later differ in vector size or index settings. Workspaces
are still separated, because a knowledge base belongs to exactly one workspace.

Keyword search runs on ``terms`` (jieba-cut words, whitespace tokenization), the
same field the embedded index uses; hybrid search is Weaviate's own, relative-score
fusion with ``alpha``.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal, TypedDict, overload

import structlog
import weaviate
import weaviate.classes as wvc
from weaviate import WeaviateAsyncClient
from weaviate.collections import CollectionAsync
from weaviate.collections.classes.internal import Object
from weaviate.exceptions import WeaviateBaseError

from agents.errors import InvalidInputError
from agents.knowledge.index import IndexedChunk, IndexUnavailableError, ScoredChunk, SearchOptions
from agents.knowledge.terms import terms

log = structlog.get_logger(__name__)
_SAFE = re.compile(r"^[A-Za-z0-9_]+$")
_NAMESPACE = uuid.UUID("6f0d3c1e-2b1a-4f7e-9a51-2f4c0b8e9d10")
#: HNSW search breadth: Weaviate picks ``ef`` = limit x factor within [min, max]. Its
#: default minimum (100) finds about 91 % of the exact top 10 on e5-like vectors at 100k
#: chunks; 256 reaches the recall goal for about a millisecond (docs/benchmarks.md).
EF_MIN, EF_FACTOR, EF_MAX = 256, 16, 1024
#: Objects per insert_many call: one large document must not meet the client's timeout.
INSERT_BATCH = 500


class ChunkProperties(TypedDict):
    """The properties of a chunk's object (the collection's schema)."""

    chunk_id: str
    document_id: str
    chunk_index: int
    text: str
    terms: str
    parent_text: str
    title: str
    tags: list[str]


Collection = CollectionAsync[ChunkProperties, None]


def collection_name(kb_id: str) -> str:
    name = kb_id.replace("-", "_")
    if not _SAFE.match(name):
        raise InvalidInputError(f"invalid knowledge base id {kb_id!r}", param="kb_id")
    return "Kb_" + name


class WeaviateIndex:
    def __init__(self, host: str = "127.0.0.1", port: int = 8080, grpc_port: int = 50051) -> None:
        self._client = weaviate.use_async_with_local(
            host=host, port=port, grpc_port=grpc_port, skip_init_checks=False
        )
        self._connected = False
        self._known: set[str] = set()

    async def _c(self) -> WeaviateAsyncClient:
        if not self._connected:
            try:
                await self._client.connect()
            except WeaviateBaseError as exc:
                raise IndexUnavailableError(f"Weaviate is unreachable: {exc}") from exc
            self._connected = True
        return self._client

    async def close(self) -> None:
        if self._connected:
            await self._client.close()
            self._connected = False

    @overload
    async def _collection(self, kb_id: str, create: Literal[True]) -> Collection: ...

    @overload
    async def _collection(self, kb_id: str, create: bool = False) -> Collection | None: ...

    async def _collection(self, kb_id: str, create: bool = False) -> Collection | None:
        client = await self._c()
        name = collection_name(kb_id)
        try:
            if name not in self._known and not await client.collections.exists(name):
                if not create:
                    return None
                await client.collections.create(
                    name,
                    vector_config=wvc.config.Configure.Vectors.self_provided(
                        vector_index_config=wvc.config.Configure.VectorIndex.hnsw(
                            distance_metric=wvc.config.VectorDistances.COSINE,
                            dynamic_ef_min=EF_MIN,
                            dynamic_ef_factor=EF_FACTOR,
                            dynamic_ef_max=EF_MAX,
                        )
                    ),
                    inverted_index_config=wvc.config.Configure.inverted_index(
                        bm25_b=0.75, bm25_k1=1.2
                    ),
                    properties=[
                        _prop("chunk_id", wvc.config.DataType.TEXT, searchable=False),
                        _prop("document_id", wvc.config.DataType.TEXT, searchable=False),
                        _prop("chunk_index", wvc.config.DataType.INT),
                        _prop("text", wvc.config.DataType.TEXT, searchable=False),
                        wvc.config.Property(
                            name="terms",
                            data_type=wvc.config.DataType.TEXT,
                            tokenization=wvc.config.Tokenization.WHITESPACE,
                            index_searchable=True,
                            index_filterable=False,
                        ),
                        _prop("parent_text", wvc.config.DataType.TEXT, searchable=False),
                        _prop("title", wvc.config.DataType.TEXT, searchable=False),
                        _prop("tags", wvc.config.DataType.TEXT_ARRAY, searchable=False),
                    ],
                )
            self._known.add(name)
            return client.collections.use(name)
        except WeaviateBaseError as exc:
            raise IndexUnavailableError(f"Weaviate failed: {exc}") from exc

    async def upsert(self, kb_id: str, chunks: list[IndexedChunk]) -> None:
        if not chunks:
            return
        collection = await self._collection(kb_id, create=True)
        objects = [
            wvc.data.DataObject(
                uuid=uuid.uuid5(_NAMESPACE, chunk.id),
                properties=ChunkProperties(
                    chunk_id=chunk.id,
                    document_id=chunk.document_id,
                    chunk_index=chunk.chunk_index,
                    text=chunk.text,
                    terms=terms(chunk.text),
                    parent_text=chunk.parent_text or "",
                    title=chunk.title,
                    tags=chunk.tags,
                ),
                vector=chunk.vector,
            )
            for chunk in chunks
        ]
        for start in range(0, len(objects), INSERT_BATCH):
            try:
                result = await collection.data.insert_many(objects[start : start + INSERT_BATCH])
            except WeaviateBaseError as exc:
                raise IndexUnavailableError(f"Weaviate insert failed: {exc}") from exc
            if result.has_errors:
                first = next(iter(result.errors.values()))
                raise IndexUnavailableError(
                    f"Weaviate refused {len(result.errors)} chunks: {first}"
                )

    async def delete_document(self, kb_id: str, document_id: str) -> None:
        collection = await self._collection(kb_id)
        if collection is None:
            return
        try:
            await collection.data.delete_many(
                where=wvc.query.Filter.by_property("document_id").equal(document_id)
            )
        except WeaviateBaseError as exc:
            raise IndexUnavailableError(f"Weaviate delete failed: {exc}") from exc

    async def optimize(self, kb_id: str) -> None:
        """Nothing to do: Weaviate indexes each object as it is inserted."""

    async def drop(self, kb_id: str) -> None:
        client = await self._c()
        name = collection_name(kb_id)
        self._known.discard(name)
        try:
            await client.collections.delete(name)
        except WeaviateBaseError as exc:
            raise IndexUnavailableError(f"Weaviate drop failed: {exc}") from exc

    async def count(self, kb_id: str, document_id: str | None = None) -> int:
        collection = await self._collection(kb_id)
        if collection is None:
            return 0
        where = (
            wvc.query.Filter.by_property("document_id").equal(document_id) if document_id else None
        )
        result = await collection.aggregate.over_all(filters=where, total_count=True)
        return int(result.total_count or 0)

    async def search(
        self, kb_id: str, query: str, vector: list[float], options: SearchOptions
    ) -> list[ScoredChunk]:
        collection = await self._collection(kb_id)
        if collection is None:
            return []
        where = _filters(options)
        words = terms(query)
        meta = wvc.query.MetadataQuery(distance=True, score=True)
        try:
            if options.mode == "vector":
                result = await collection.query.near_vector(
                    near_vector=vector, limit=options.top_k, filters=where, return_metadata=meta
                )
                hits = [_scored(o, 1.0 - _measured(o.metadata.distance)) for o in result.objects]
            elif options.mode == "keyword":
                if not words:
                    return []
                result = await collection.query.bm25(
                    query=words, query_properties=["terms"], limit=options.top_k,
                    filters=where, return_metadata=meta,
                )  # fmt: skip
                hits = [_scored(o, _measured(o.metadata.score)) for o in result.objects]
            else:
                result = await collection.query.hybrid(
                    query=words or None,
                    vector=vector,
                    alpha=options.alpha,
                    query_properties=["terms"],
                    fusion_type=wvc.query.HybridFusion.RELATIVE_SCORE,
                    limit=options.top_k,
                    filters=where,
                    return_metadata=meta,
                )
                hits = [_scored(o, _measured(o.metadata.score)) for o in result.objects]
        except WeaviateBaseError as exc:
            raise IndexUnavailableError(f"Weaviate search failed: {exc}") from exc
        if options.score_threshold is not None:
            hits = [h for h in hits if h.score >= options.score_threshold]
        return hits


def _prop(
    name: str, data_type: wvc.config.DataType, searchable: bool = False
) -> wvc.config.Property:
    return wvc.config.Property(
        name=name,
        data_type=data_type,
        index_searchable=searchable if data_type != wvc.config.DataType.INT else None,
        tokenization=wvc.config.Tokenization.FIELD
        if data_type in (wvc.config.DataType.TEXT, wvc.config.DataType.TEXT_ARRAY)
        else None,
    )


def _filters(options: SearchOptions) -> wvc.query.FilterReturn | None:
    clauses = []
    if options.document_ids is not None:
        clauses.append(
            wvc.query.Filter.by_property("document_id").contains_any(options.document_ids or [""])
        )
    if options.tags:
        clauses.append(wvc.query.Filter.by_property("tags").contains_all(options.tags))
    if not clauses:
        return None
    return wvc.query.Filter.all_of(clauses) if len(clauses) > 1 else clauses[0]


def _measured(value: float | None) -> float:
    """A distance or score the query asked for (``MetadataQuery``); Weaviate sends both."""
    if value is None:
        raise IndexUnavailableError("Weaviate returned a hit without its score")
    return float(value)


def _scored(obj: Object[ChunkProperties, None], score: float) -> ScoredChunk:
    p = obj.properties
    return ScoredChunk(
        id=p["chunk_id"],
        document_id=p["document_id"],
        chunk_index=int(p["chunk_index"]),
        text=p["text"],
        parent_text=p.get("parent_text") or None,
        title=p.get("title") or "",
        score=score,
    )
