"""Ingestion with the in-memory store and index and a hashing embedder (logic only;
the real embedder and stores are exercised in tests/integration)."""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass

from agents.errors import TimeoutError as ChorusTimeout
from agents.errors import UpstreamUnavailableError
from agents.knowledge.index import SearchOptions
from agents.knowledge.ingest import Ingestor, PreparedDocument, prepare_document
from agents.knowledge.memory_index import InMemoryKnowledgeIndex
from agents.knowledge.parsing import DocumentError
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from agents.knowledge.store import InMemoryKnowledgeStore

WS = "ws"


class HashEmbedder:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    async def embed(self, texts: list[str], input_type: str) -> list[list[float]]:
        self.calls += 1
        if self.fail:
            raise UpstreamUnavailableError("embedder down")
        out = []
        for text in texts:
            digest = hashlib.sha256(text.encode()).digest()
            v = [b / 255 for b in digest[:8]]
            n = math.sqrt(sum(x * x for x in v))
            out.append([x / n for x in v])
        return out


@dataclass
class Page:
    url: str
    status_code: int
    content: bytes
    content_type: str


class FakeFetcher:
    def __init__(self, pages: dict[str, Page | Exception]) -> None:
        self.pages = pages

    async def fetch(self, url: str, *, max_bytes: int | None = None) -> Page:
        page = self.pages[url]
        if isinstance(page, Exception):
            raise page
        return page


async def setup(
    **chunking: object,
) -> tuple[Ingestor, KnowledgeBaseRecord, InMemoryKnowledgeStore, InMemoryKnowledgeIndex]:
    store, index = InMemoryKnowledgeStore(), InMemoryKnowledgeIndex()
    kb = await store.create_kb(
        KnowledgeBaseRecord(id="kb1", workspace_id=WS, name="kb", chunking=ChunkingSpec(**chunking))
    )
    return Ingestor(store, index, HashEmbedder(), batch_size=4), kb, store, index


async def new_doc(store: InMemoryKnowledgeStore, name: str, **kw: object) -> DocumentRecord:
    return await store.add_document(
        DocumentRecord(
            id="doc_" + name.replace(".", "_"), kb_id="kb1", workspace_id=WS, name=name, **kw
        )
    )


async def test_text_document_becomes_ready_with_chunks() -> None:
    ingestor, kb, store, index = await setup(max_tokens=32, overlap_tokens=4)
    text = " ".join(f"Sentence {i} is about pandas and bamboo." for i in range(40))
    doc = await ingestor.ingest_bytes(kb, await new_doc(store, "pandas.txt"), text.encode())
    assert doc.status == "ready" and doc.progress == 1.0 and doc.error is None
    assert doc.chunk_count == await index.count("kb1", doc.id) > 5
    assert doc.checksum and doc.size_bytes == len(text)
    hits = await index.search("kb1", "bamboo", [0.0] * 8, SearchOptions(mode="keyword"))
    assert hits and hits[0].document_id == doc.id


async def test_reingest_replaces_chunks() -> None:
    ingestor, kb, store, index = await setup(max_tokens=32, overlap_tokens=0)
    doc = await new_doc(store, "a.md")
    await ingestor.ingest_bytes(kb, doc, ("Old words here. " * 50).encode())
    first = await index.count("kb1", doc.id)
    doc = await ingestor.ingest_bytes(kb, doc, b"Completely new short content.")
    assert doc.chunk_count == 1 == await index.count("kb1", doc.id) < first
    hits = await index.search("kb1", "old words", [0.0] * 8, SearchOptions(mode="keyword"))
    assert hits == []


async def test_bad_files_fail_with_reason_and_touch_nothing_else() -> None:
    ingestor, kb, store, index = await setup()
    good = await ingestor.ingest_bytes(kb, await new_doc(store, "good.txt"), b"Fine text.")
    bad_pdf = await ingestor.ingest_bytes(kb, await new_doc(store, "bad.pdf"), b"%PDF-1.4 garbage")
    empty = await ingestor.ingest_bytes(kb, await new_doc(store, "empty.txt"), b"")
    exe = await ingestor.ingest_bytes(kb, await new_doc(store, "x.exe"), b"MZ")
    assert (bad_pdf.status, bad_pdf.error_code) == ("failed", "document_unreadable")
    assert (empty.status, empty.error_code) == ("failed", "empty_document")
    assert (exe.status, exe.error_code) == ("failed", "unsupported_type")
    assert "PDF" in (bad_pdf.error or "")
    assert good.status == "ready" and await index.count("kb1") == 1


async def test_too_large_is_refused_before_parsing() -> None:
    ingestor, kb, store, _ = await setup()
    ingestor.max_bytes = 1000
    doc = await ingestor.ingest_bytes(kb, await new_doc(store, "big.txt"), b"x" * 5000)
    assert doc.status == "failed" and doc.error_code == "too_large" and "limit" in (doc.error or "")


async def test_embedder_outage_fails_the_document_only() -> None:
    ingestor, kb, store, index = await setup()
    ingestor.embedder = HashEmbedder(fail=True)
    doc = await ingestor.ingest_bytes(kb, await new_doc(store, "a.txt"), b"Some text.")
    assert doc.status == "failed" and doc.error_code == "engine_unavailable"
    assert await index.count("kb1") == 0


async def test_parent_child_chunks_carry_their_section() -> None:
    ingestor, kb, store, index = await setup(
        mode="parent_child", max_tokens=20, overlap_tokens=4, parent_max_tokens=80
    )
    text = " ".join(f"Fact {i} concerns item {i}." for i in range(60))
    doc = await ingestor.ingest_bytes(kb, await new_doc(store, "facts.txt"), text.encode())
    hits = await index.search("kb1", "item", [0.0] * 8, SearchOptions(mode="keyword", top_k=3))
    assert doc.status == "ready" and all(h.parent_text and h.text in h.parent_text for h in hits)


async def test_urls_through_the_fetcher() -> None:
    ingestor, kb, store, index = await setup()
    html = (
        b"<html><head><title>Zoo</title></head><body><article><p>The zoo opens at nine "
        b"every morning and closes at six.</p></article></body></html>"
    )
    fetcher = FakeFetcher(
        {
            "https://zoo.test/hours": Page("https://zoo.test/hours", 200, html, "text/html"),
            "https://zoo.test/missing": Page("https://zoo.test/missing", 404, b"", "text/html"),
            "https://slow.test/": ChorusTimeout("https://slow.test/ did not answer in time"),
        }
    )
    ok = await ingestor.ingest_url(
        kb, await new_doc(store, "hours", source="url", url="https://zoo.test/hours"), fetcher
    )
    missing = await ingestor.ingest_url(
        kb, await new_doc(store, "missing", source="url", url="https://zoo.test/missing"), fetcher
    )
    slow = await ingestor.ingest_url(
        kb, await new_doc(store, "slow", source="url", url="https://slow.test/"), fetcher
    )
    assert ok.status == "ready" and ok.metadata["title"] == "Zoo"
    assert missing.status == "failed" and "404" in (missing.error or "")
    assert slow.status == "failed" and slow.error_code == "timeout"


async def test_crawl_same_site_with_depth_and_page_limits() -> None:
    ingestor, kb, store, index = await setup()

    def page(url: str, body: str) -> Page:
        html = (
            f"<html><head><title>{url}</title></head><body><article><p>{body}</p>"
            "</article></body></html>"
        )
        return Page(url, 200, html.encode(), "text/html")

    site = {
        "https://s.test/": page(
            "https://s.test/",
            'Home page of the site with enough words. <a href="/a">a</a> '
            '<a href="https://other.test/x">x</a> <a href="/b#top">b</a>',
        ),
        "https://s.test/a": page(
            "https://s.test/a", 'Page A talks about apples and more. <a href="/c">c</a>'
        ),
        "https://s.test/b": page("https://s.test/b", "Page B talks about bananas at length."),
        "https://s.test/c": page("https://s.test/c", "Page C is deeper than allowed."),
    }
    counter = iter(range(100))

    async def new_document(url: str) -> DocumentRecord:
        return await store.add_document(
            DocumentRecord(
                id=f"doc{next(counter)}",
                kb_id="kb1",
                workspace_id=WS,
                name=url,
                source="url",
                url=url,
            )
        )

    docs = await ingestor.crawl(
        kb, "https://s.test/", FakeFetcher(site), new_document, depth=1, max_pages=10
    )
    assert [d.url for d in docs] == ["https://s.test/", "https://s.test/a", "https://s.test/b"]
    assert all(d.status == "ready" for d in docs)
    limited = await ingestor.crawl(
        kb, "https://s.test/", FakeFetcher(site), new_document, depth=5, max_pages=2
    )
    assert len(limited) == 2


async def test_small_documents_ingested_together_share_embedding_calls() -> None:
    store, index = InMemoryKnowledgeStore(), InMemoryKnowledgeIndex()
    kb = await store.create_kb(KnowledgeBaseRecord(id="kb1", workspace_id=WS, name="kb"))
    embedder = HashEmbedder()
    ingestor = Ingestor(store, index, embedder, batch_size=32, coalesce_wait_s=0.05)
    docs = [await new_doc(store, f"faq{i}.txt") for i in range(6)]
    done = await asyncio.gather(
        *(
            ingestor.ingest_bytes(kb, d, f"Question {i}? Answer {i}.".encode())
            for i, d in enumerate(docs)
        )
    )
    assert [d.status for d in done] == ["ready"] * 6
    assert embedder.calls == 1
    for d in docs:
        assert await index.count("kb1", d.id) == 1


async def test_preparation_can_run_elsewhere_and_its_errors_fail_the_document() -> None:
    store, index = InMemoryKnowledgeStore(), InMemoryKnowledgeIndex()
    kb = await store.create_kb(KnowledgeBaseRecord(id="kb1", workspace_id=WS, name="kb"))
    seen: list[tuple[str, int]] = []

    async def prepare(
        data: bytes, name: str, content_type: str, spec: ChunkingSpec
    ) -> PreparedDocument:
        seen.append((name, spec.max_tokens))
        if name.endswith(".bad"):
            raise DocumentError("cannot read this", code="unreadable")
        return prepare_document(data, name, content_type, spec)

    ingestor = Ingestor(store, index, HashEmbedder(), prepare=prepare)
    good = await ingestor.ingest_bytes(kb, await new_doc(store, "a.txt"), b"Pandas eat bamboo.")
    bad = await ingestor.ingest_bytes(kb, await new_doc(store, "b.bad"), b"whatever")
    assert good.status == "ready" and good.chunk_count == 1
    assert (
        bad.status == "failed"
        and bad.error_code == "unreadable"
        and bad.error == "cannot read this"
    )
    assert seen == [("a.txt", kb.chunking.max_tokens), ("b.bad", kb.chunking.max_tokens)]
