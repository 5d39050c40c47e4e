"""Knowledge bases end to end: upload, ingest, query, cite in chat, and the bad inputs."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest

from tests.e2e import auth
from tests.e2e.wsclient import start, turn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZOO = (
    "Zorblax Zoo opens at nine in the morning and closes at six in the evening.\n\n"
    "佐布拉克斯动物园早上九点开门，晚上六点关门。\n\n"
    "The giant pandas are fed bamboo at noon, and the penguins at three."
)
OTHER = "The city library lends books for three weeks. Late returns cost ten cents a day."


def wait_done(api: httpx.Client, kb: str, doc: str) -> dict:  # type: ignore[type-arg]
    """Follow the document's progress events until it is ready or failed."""
    with api.stream("GET", f"/knowledge-bases/{kb}/documents/{doc}/events", timeout=120) as resp:
        events = [json.loads(line[5:]) for line in resp.iter_lines() if line.startswith("data:")]
    assert events and events[-1]["status"] in ("ready", "failed")
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    return api.get(f"/knowledge-bases/{kb}/documents/{doc}").json()  # type: ignore[no-any-return]


def upload(api: httpx.Client, kb: str, name: str, data: bytes) -> dict:  # type: ignore[type-arg]
    resp = api.post(f"/knowledge-bases/{kb}/documents", files={"file": (name, io.BytesIO(data))})
    assert resp.status_code == 202, resp.text
    return resp.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def api(server: str) -> httpx.Client:
    return auth.client(base_url=server + "/api", timeout=60)


@pytest.fixture(scope="module")
def zoo_kb(api: httpx.Client) -> tuple[str, str, str]:
    kb = api.post("/knowledge-bases", json={"name": "zoo"}).json()["id"]
    zoo = wait_done(api, kb, upload(api, kb, "zoo.txt", ZOO.encode())["id"])
    other = wait_done(api, kb, upload(api, kb, "library.md", OTHER.encode())["id"])
    assert zoo["status"] == other["status"] == "ready" and zoo["chunk_count"] >= 1
    return kb, zoo["id"], other["id"]


def test_query_ranks_the_right_document(api: httpx.Client, zoo_kb: tuple[str, str, str]) -> None:
    kb, zoo, other = zoo_kb
    for query in ("When does the zoo open?", "动物园几点开门？"):
        hits = api.post(f"/knowledge-bases/{kb}/query", json={"query": query}).json()["data"]
        assert hits[0]["document_id"] == zoo, (query, hits)
    hits = api.post(
        f"/knowledge-bases/{kb}/query",
        json={"query": "late fees for books", "options": {"mode": "keyword", "top_k": 1}},
    ).json()["data"]
    assert [h["document_id"] for h in hits] == [other]


async def test_chat_cites_the_right_document(
    ws_url: str, api: httpx.Client, create_app, zoo_kb
) -> None:  # type: ignore[no-untyped-def]
    kb, zoo, _ = zoo_kb
    app_id = create_app(knowledge_bases=[kb], retrieval={"top_k": 2})
    async with auth.connect(ws_url) as ws:
        await start(ws, app_id)
        events = await turn(ws, "When does Zorblax Zoo open?")
    kinds = [e["type"] for e in events]
    citations = [e for e in events if e["type"] == "citation"]
    assert citations and citations[0]["document_id"] == zoo
    assert kinds.index("citation") < kinds.index("delta") and events[-1]["status"] == "complete"
    assert "nine in the morning" in citations[0]["content"]


async def test_nothing_relevant_says_so(ws_url: str, create_app, zoo_kb) -> None:  # type: ignore[no-untyped-def]
    kb, _, _ = zoo_kb
    app_id = create_app(
        knowledge_bases=[kb],
        retrieval={
            "mode": "keyword",
            "score_threshold": 5.0,
            "empty_reply": "Not in the zoo docs.",
        },
    )
    async with auth.connect(ws_url) as ws:
        await start(ws, app_id)
        events = await turn(ws, "quantum chromodynamics lattice")
    assert [e["type"] for e in events] == ["message_started", "delta", "message_end"]
    assert events[1]["content"] == "Not in the zoo docs."


def test_bad_files_fail_alone(api: httpx.Client, zoo_kb: tuple[str, str, str]) -> None:
    kb, zoo, _ = zoo_kb
    before = api.get(f"/knowledge-bases/{kb}/documents/{zoo}").json()
    cases = {
        "empty.txt": (b"", "empty_document"),
        "tool.exe": (b"MZ\x90\x00binary", "unsupported_type"),
        "broken.pdf": (b"%PDF-1.4\nnot really a pdf\x00\x01", "document_unreadable"),
        "huge.txt": (b"x" * (3 * 1024 * 1024), "too_large"),
    }
    for name, (data, code) in cases.items():
        doc = upload(api, kb, name, data)
        if doc["status"] != "failed":
            doc = wait_done(api, kb, doc["id"])
        assert (doc["status"], doc["error_code"]) == ("failed", code), (name, doc)
        assert doc["error"]
    after = api.get(f"/knowledge-bases/{kb}/documents/{zoo}").json()
    assert after["status"] == "ready" and after["chunk_count"] == before["chunk_count"]


def test_urls_ssrf_guard_and_crawl(api: httpx.Client, local_site: str) -> None:
    kb = api.post("/knowledge-bases", json={"name": "site"}).json()["id"]
    for url in (
        "http://127.0.0.1:9/",
        "http://localhost:9/x",
        "http://169.254.169.254/latest",
        "file:///etc/passwd",
    ):
        resp = api.post(f"/knowledge-bases/{kb}/urls", json={"url": url})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "url_blocked", url
    page = api.post(f"/knowledge-bases/{kb}/urls", json={"url": local_site + "/hours"}).json()
    assert wait_done(api, kb, page["id"])["status"] == "ready"
    missing = api.post(f"/knowledge-bases/{kb}/urls", json={"url": local_site + "/missing"}).json()
    gone = wait_done(api, kb, missing["id"])
    assert gone["status"] == "failed" and "404" in gone["error"]
    crawl = api.post(f"/knowledge-bases/{kb}/urls", json={"url": local_site + "/", "depth": 1})
    assert crawl.json()["status"] == "crawling"
    urls: set[str] = set()
    for _ in range(120):
        docs = api.get(f"/knowledge-bases/{kb}/documents").json()["data"]
        urls = {d["url"] for d in docs if d["status"] in ("ready", "failed")}
        if {local_site + "/", local_site + "/missing"} <= urls:
            break
        time.sleep(0.5)
    assert {local_site + "/", local_site + "/hours", local_site + "/missing"} <= urls


def test_delete_and_reindex(api: httpx.Client) -> None:
    kb = api.post("/knowledge-bases", json={"name": "tmp"}).json()["id"]
    doc = wait_done(api, kb, upload(api, kb, "zoo.txt", ZOO.encode())["id"])
    same = upload(api, kb, "zoo.txt", ZOO.encode())  # unchanged: nothing to redo
    assert same["id"] == doc["id"] and same["status"] == "ready"
    changed = upload(api, kb, "zoo.txt", b"The aquarium opens at ten. Sharks are fed at two.")
    assert changed["id"] == doc["id"]
    assert wait_done(api, kb, doc["id"])["status"] == "ready"
    hits = api.post(f"/knowledge-bases/{kb}/query", json={"query": "sharks aquarium"}).json()[
        "data"
    ]
    assert hits and all("Zorblax" not in h["text"] for h in hits)
    assert len(api.get(f"/knowledge-bases/{kb}/documents").json()["data"]) == 1
    again = api.post(f"/knowledge-bases/{kb}/documents/{doc['id']}/reindex")
    assert again.status_code == 202
    assert wait_done(api, kb, doc["id"])["status"] == "ready"
    assert api.delete(f"/knowledge-bases/{kb}/documents/{doc['id']}").status_code == 204
    hits = api.post(f"/knowledge-bases/{kb}/query", json={"query": "zoo"}).json()["data"]
    assert hits == []
    other = api.get(f"/knowledge-bases/{kb}", headers=auth.other_workspace())
    assert other.status_code == 404
    assert api.delete(f"/knowledge-bases/{kb}").status_code == 204
    assert api.get(f"/knowledge-bases/{kb}").status_code == 404


def test_query_with_rerank(api: httpx.Client, zoo_kb: tuple[str, str, str]) -> None:
    kb, zoo, other = zoo_kb
    body = {"query": "When does the zoo open?", "options": {"top_k": 2, "rerank": True}}
    hits = api.post(f"/knowledge-bases/{kb}/query", json=body).json()["data"]
    assert {h["document_id"] for h in hits} <= {zoo, other} and len(hits) == 2
    assert all(0.0 <= h["score"] <= 1.0 for h in hits)
    assert hits[0]["score"] >= hits[1]["score"]


def test_large_uploads_are_prepared_in_ray_tasks_and_the_index_is_optimized(
    api: httpx.Client, server_cluster: None
) -> None:
    """A large upload is parsed in a Ray task (its errors still fail only it), and the
    worker optimises the knowledge base's index once ingestion is quiet."""
    import ray

    from cluster.knowledge.knowledge_worker import NAMESPACE, RAY_TASK_MIN_BYTES, WORKER_NAME

    kb = api.post("/knowledge-bases", json={"name": "large"}).json()["id"]
    style = "".join(
        f".c{i} {{ color: #{i % 4096:03x}; margin: {i % 17}px; }}\n" for i in range(9000)
    )
    page = (
        f"<html><head><title>Quokka facts</title><style>{style}</style></head><body><article>"
        "<h1>Quokka facts</h1><p>The quokka of Rottnest Island is a small wallaby that "
        "smiles for photographs and sleeps through the hottest hours of the day.</p>"
        "</article></body></html>"
    ).encode()
    broken = b"%PDF-1.4\n" + b"\x00\x01garbage" * (RAY_TASK_MIN_BYTES // 8)
    assert len(page) >= RAY_TASK_MIN_BYTES and len(broken) >= RAY_TASK_MIN_BYTES
    good = wait_done(api, kb, upload(api, kb, "quokka.html", page)["id"])
    bad = wait_done(api, kb, upload(api, kb, "broken.pdf", broken)["id"])
    assert good["status"] == "ready" and good["chunk_count"] >= 1, good
    assert (bad["status"], bad["error_code"]) == ("failed", "document_unreadable"), bad
    hits = api.post(f"/knowledge-bases/{kb}/query", json={"query": "quokka Rottnest"}).json()
    assert hits["data"][0]["document_id"] == good["id"]

    worker = ray.get_actor(WORKER_NAME, namespace=NAMESPACE)
    ray.get(worker.settle.remote(), timeout=60)
    info = ray.get(worker.info.remote(), timeout=30)
    assert info["prepared_in_tasks"] >= 2 and info["optimized"] >= 1, info
