"""``chorus kb`` against a small fake of the knowledge-base REST API, served on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cluster.cli import main

PREFIX = "/api/knowledge-bases"


class FakeKnowledgeApi:
    """The endpoints the CLI uses; a file named ``bad.*`` fails while parsing, the progress
    stream of ``cut.*`` ends early (the document is ready when asked afterwards)."""

    def __init__(self) -> None:
        self.kbs: dict[str, dict[str, Any]] = {}
        self.docs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str, Any]] = []  # method, path, workspace, body

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(PREFIX, self.kbs_route, methods=["GET", "POST"]),
                Route(PREFIX + "/{kb}", self.delete_kb, methods=["DELETE"]),
                Route(PREFIX + "/{kb}/documents", self.documents, methods=["GET", "POST"]),
                Route(PREFIX + "/{kb}/documents/{doc}", self.document, methods=["GET", "DELETE"]),
                Route(PREFIX + "/{kb}/documents/{doc}/events", self.events),
                Route(PREFIX + "/{kb}/documents/{doc}/reindex", self.reindex, methods=["POST"]),
                Route(PREFIX + "/{kb}/urls", self.urls, methods=["POST"]),
                Route(PREFIX + "/{kb}/query", self.query, methods=["POST"]),
            ]
        )

    def _log(self, request: Request, body: Any = None) -> None:
        workspace = request.headers.get("x-workspace-id", "")
        self.requests.append((request.method, request.url.path, workspace, body))

    def _kb(self, request: Request) -> dict[str, Any] | JSONResponse:
        kb = self.kbs.get(request.path_params["kb"])
        if kb is None:
            return _error(404, "knowledge base not found", "kb_not_found")
        return kb

    def _new_doc(self, kb_id: str, name: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": f"doc_{len(self.docs) + 1}", "kb_id": kb_id, "name": name}
        doc.update(status="queued", progress=0.0, error=None, error_code=None, chunk_count=0)
        self.docs[doc["id"]] = doc
        return doc

    async def kbs_route(self, request: Request) -> Response:
        if request.method == "GET":
            self._log(request)
            return JSONResponse({"data": list(self.kbs.values())})
        body = await request.json()
        self._log(request, body)
        if not body["name"].strip():
            return _error(400, "invalid field 'name': must not be blank", "invalid_request")
        chunking = {"mode": "general", "max_tokens": 256, "overlap_tokens": 32, **body["chunking"]}
        kb = {"id": f"kb_{len(self.kbs) + 1}", "name": body["name"], "chunking": chunking}
        kb["description"] = body.get("description", "")
        self.kbs[kb["id"]] = kb
        return JSONResponse(kb, status_code=201)

    async def delete_kb(self, request: Request) -> Response:
        self._log(request)
        kb = self._kb(request)
        if isinstance(kb, Response):
            return kb
        del self.kbs[kb["id"]]
        return Response(status_code=204)

    async def documents(self, request: Request) -> Response:
        kb = self._kb(request)
        if isinstance(kb, Response):
            return kb
        if request.method == "GET":
            self._log(request)
            docs = [d for d in self.docs.values() if d["kb_id"] == kb["id"]]
            return JSONResponse({"data": docs})
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str)
        data = await upload.read()
        self._log(request, {"filename": upload.filename, "data": data})
        if upload.filename and upload.filename.endswith(".exe"):
            return _error(400, "unsupported file type '.exe'", "unsupported_file_type")
        return JSONResponse(self._new_doc(kb["id"], upload.filename or "upload"), status_code=202)

    async def document(self, request: Request) -> Response:
        self._log(request)
        doc = self.docs.get(request.path_params["doc"])
        if doc is None:
            return _error(404, "document not found", "document_not_found")
        if request.method == "DELETE":
            del self.docs[doc["id"]]
            return Response(status_code=204)
        return JSONResponse(doc)

    async def events(self, request: Request) -> Response:
        self._log(request)
        doc = self.docs[request.path_params["doc"]]
        steps: list[dict[str, Any]] = [
            {"status": "parsing", "progress": 0.05},
            {"status": "indexing", "progress": 0.1},
            {"status": "indexing", "progress": 0.62},
        ]
        if doc["name"].startswith("bad."):
            steps = steps[:1] + [
                {"status": "failed", "progress": 0.05, "error": "the PDF is encrypted"}
            ]
            steps[-1]["error_code"] = "parse_failed"
        elif not doc["name"].startswith("cut."):
            steps.append({"status": "ready", "progress": 1.0, "chunk_count": 12})

        async def stream() -> AsyncIterator[bytes]:
            for step in steps:
                doc.update(step)
                payload = {"type": "document_progress", "document_id": doc["id"]}
                payload.update({k: doc[k] for k in ("status", "progress", "error_code")})
                payload.update(error=doc["error"], chunk_count=doc["chunk_count"])
                yield f"event: document_progress\ndata: {json.dumps(payload)}\n\n".encode()
                await asyncio.sleep(0.01)
            if doc["status"] not in ("ready", "failed"):
                doc.update(status="ready", progress=1.0, chunk_count=3)

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def reindex(self, request: Request) -> Response:
        self._log(request)
        doc = self.docs[request.path_params["doc"]]
        doc.update(status="queued", progress=0.0, error=None, error_code=None)
        return JSONResponse(doc, status_code=202)

    async def urls(self, request: Request) -> Response:
        body = await request.json()
        self._log(request, body)
        if body["depth"] > 0:
            return JSONResponse({"status": "crawling", "url": body["url"], "depth": body["depth"]})
        return JSONResponse(self._new_doc(request.path_params["kb"], body["url"]), status_code=202)

    async def query(self, request: Request) -> Response:
        body = await request.json()
        self._log(request, body)
        hits = [
            {"id": "doc_1-0", "document_id": "doc_1", "chunk_index": 0, "title": "zoo"},
            {"id": "doc_2-3", "document_id": "doc_2", "chunk_index": 3, "title": ""},
        ]
        hits[0].update(text="The zoo opens at nine.", score=0.91, kb_id="kb_1")
        hits[1].update(text="Pandas eat bamboo.\nAt noon.", score=0.4, kb_id="kb_1")
        return JSONResponse({"data": hits[: body["options"]["top_k"]]})


def _error(status: int, message: str, code: str) -> JSONResponse:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return JSONResponse(body, status_code=status)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def api() -> FakeKnowledgeApi:
    return FakeKnowledgeApi()


@pytest.fixture
def url(api: FakeKnowledgeApi) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(api.app(), host="127.0.0.1", port=port, log_level="warning")
    config.lifespan, config.ws = "off", "none"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def kb(url: str, *args: str) -> int:
    return main(["kb", "--url", url, *args])


def test_create_list_and_delete(
    url: str, api: FakeKnowledgeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["create", "Zoo", "--description", "the handbook", "--chunk-tokens", "128"]
    assert kb(url, *args, "--overlap", "16", "--parent-child") == 0
    assert capsys.readouterr().out == "kb_1\n"
    assert api.requests[-1][3]["chunking"] == {
        "max_tokens": 128,
        "overlap_tokens": 16,
        "mode": "parent_child",
    }
    assert kb(url, "list") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "NAME", "CHUNKING", "DESCRIPTION"]
    assert out[1].split() == ["kb_1", "Zoo", "parent_child", "the", "handbook"]
    assert kb(url, "delete", "kb_1") == 0
    assert capsys.readouterr().out == "deleted kb_1\n"
    assert api.kbs == {}


def test_upload_draws_progress_until_ready(
    url: str, api: FakeKnowledgeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "create", "Zoo") == 0
    (tmp_path / "zoo.txt").write_text("The zoo opens at nine.")
    (tmp_path / "longer-name.md").write_text("# Hours")
    capsys.readouterr()
    assert (
        kb(url, "upload", "kb_1", str(tmp_path / "zoo.txt"), str(tmp_path / "longer-name.md")) == 0
    )
    out, err = capsys.readouterr()
    assert out == "doc_1\ndoc_2\n"
    lines = err.split("\n")
    assert len(lines) == 3 and lines[-1] == ""  # one finished line per document
    for line, name in zip(lines[:2], ["zoo.txt", "longer-name.md"], strict=True):
        frames = line.split("\r")[1:]
        assert "[############--------]  62%  indexing" in frames[-2]
        assert frames[-1].rstrip() == f"{name.ljust(14)}  [{'#' * 20}] 100%  ready (12 chunks)"
    uploaded = [r[3] for r in api.requests if r[0] == "POST" and r[1].endswith("/documents")]
    assert uploaded[0] == {"filename": "zoo.txt", "data": b"The zoo opens at nine."}


def test_upload_reports_failures_with_exit_code_1(
    url: str, api: FakeKnowledgeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "create", "Zoo") == 0
    for name in ("bad.pdf", "ok.txt", "tool.exe"):
        (tmp_path / name).write_bytes(b"x")
    files = [str(tmp_path / n) for n in ("bad.pdf", "ok.txt", "tool.exe")]
    capsys.readouterr()
    assert kb(url, "upload", "kb_1", *files) == 1
    out, err = capsys.readouterr()
    assert out == "doc_1\ndoc_2\n"
    lines = err.split("\n")
    assert lines[0] == "error: tool.exe: unsupported file type '.exe' (unsupported_file_type)"
    assert lines[1].split("\r")[-1].rstrip().endswith("  5%  failed: the PDF is encrypted")
    assert lines[2].split("\r")[-1].rstrip().endswith("100%  ready (12 chunks)")


def test_a_progress_stream_that_ends_early_asks_for_the_status(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "create", "Zoo") == 0
    (tmp_path / "cut.txt").write_text("hello")
    assert kb(url, "upload", "kb_1", str(tmp_path / "cut.txt")) == 0
    frames = capsys.readouterr().err.split("\r")
    assert "62%  indexing" in frames[-2]
    assert frames[-1].rstrip() == f"cut.txt  [{'#' * 20}] 100%  ready (3 chunks)"


def test_upload_of_a_missing_file_sends_nothing(
    url: str, api: FakeKnowledgeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "upload", "kb_1", "/no/such/file.txt") == 1
    assert capsys.readouterr().err == "error: no such file: /no/such/file.txt\n"
    assert api.requests == []


def test_server_error_prints_message_and_code(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert kb(url, "docs", "kb_missing") == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: knowledge base not found (kb_not_found)\n")
    assert kb(url, "create", " ") == 1
    assert "(invalid_request)" in capsys.readouterr().err


def test_docs_table_rm_doc_and_reindex(
    url: str, api: FakeKnowledgeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "create", "Zoo") == 0
    (tmp_path / "bad.pdf").write_bytes(b"x")
    (tmp_path / "zoo.txt").write_text("hello")
    assert kb(url, "upload", "kb_1", str(tmp_path / "bad.pdf"), str(tmp_path / "zoo.txt")) == 1
    capsys.readouterr()
    assert kb(url, "docs", "kb_1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "NAME", "STATUS", "CHUNKS", "ERROR"]
    assert (
        out[1].split()
        == ["doc_1", "bad.pdf", "failed", "0"] + "the PDF is encrypted (parse_failed)".split()
    )
    assert out[2].split() == ["doc_2", "zoo.txt", "ready", "12"]
    assert kb(url, "reindex", "kb_1", "doc_2") == 0
    assert capsys.readouterr().err.endswith("ready (12 chunks)\n")
    assert kb(url, "rm-doc", "kb_1", "doc_1") == 0
    assert capsys.readouterr().out == "deleted doc_1\n"
    assert list(api.docs) == ["doc_2"]


def test_add_url_one_page_and_a_crawl(
    url: str, api: FakeKnowledgeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "create", "Site") == 0
    capsys.readouterr()
    assert kb(url, "add-url", "kb_1", "https://example.org/") == 0
    out, err = capsys.readouterr()
    assert out == "doc_1\n" and err.endswith("ready (12 chunks)\n")
    assert (
        kb(url, "add-url", "kb_1", "https://example.org/", "--depth", "2", "--max-pages", "7") == 0
    )
    assert "crawling https://example.org/ (depth 2, at most 7 pages)" in capsys.readouterr().out
    assert api.requests[-1][3] == {"url": "https://example.org/", "depth": 2, "max_pages": 7}


def test_query_prints_ranked_chunks(
    url: str, api: FakeKnowledgeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(url, "create", "Zoo") == 0
    (tmp_path / "zoo.txt").write_text("The zoo opens at nine.")
    assert kb(url, "upload", "kb_1", str(tmp_path / "zoo.txt"), "--no-wait") == 0
    capsys.readouterr()
    assert kb(url, "query", "kb_1", "When does it open?", "--mode", "keyword", "--top-k", "2") == 0
    assert capsys.readouterr().out == (
        "1. score 0.9100  zoo.txt  (doc_1 #0)\n"
        "   The zoo opens at nine.\n"
        "2. score 0.4000  doc_2  (doc_2 #3)\n"
        "   Pandas eat bamboo.\n"
        "   At noon.\n"
    )
    assert [r[3] for r in api.requests if r[1].endswith("/query")] == [
        {"query": "When does it open?", "options": {"mode": "keyword", "top_k": 2}}
    ]


def test_workspace_and_url_from_either_position_or_env(
    url: str, api: FakeKnowledgeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["kb", "list", "--url", url, "--workspace", "team-a"]) == 0
    monkeypatch.setenv("CHORUS_URL", url)
    assert main(["kb", "--workspace", "team-b", "list"]) == 0
    assert main(["kb", "list"]) == 0
    assert [r[2] for r in api.requests] == ["team-a", "team-b", "local"]


def test_connection_refused_says_how_to_start_the_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert kb(f"http://127.0.0.1:{_free_port()}", "list") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach Chorus at http://127.0.0.1:")
    assert "`chorus serve`" in err
