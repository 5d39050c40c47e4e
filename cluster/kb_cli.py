"""``chorus kb``: knowledge bases from a terminal.

A thin client of a running server's REST API (``/api/knowledge-bases``), not of
its internals: every command is one or two HTTP calls with httpx. The server is
``--url`` (or ``CHORUS_URL``, default ``http://127.0.0.1:8000``), the workspace
``--workspace`` (header ``X-Workspace-Id``, default ``local``), the credential
``--api-key`` (or ``CHORUS_API_KEY``: a workspace key or an access token), else the
login ``chorus login`` saved (see :mod:`cluster.cli_http`).

Results go to stdout; progress bars and errors to stderr. A server error
(OpenAI's error JSON) prints ``error: <message> (<code>)`` and exits 1; a
server that cannot be reached prints how to start one.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Generic, Required, TextIO, TypedDict, TypeVar, final

import httpx
from pydantic import JsonValue

from agents.errors import ChorusError
from cluster.cli_http import (
    add_server_options,
    auth_for,
    guarded,
    raise_for_error,
    server_url,
)

DEFAULT_WORKSPACE = "local"
PREFIX = "/api/knowledge-bases"
TERMINAL = ("ready", "failed")
BAR_WIDTH = 20
T = TypeVar("T")


# What the commands read of the server's JSON (the server sends more).


class Page(TypedDict, Generic[T]):
    data: list[T]


class ChunkingJson(TypedDict, total=False):
    mode: str


class KnowledgeBaseJson(TypedDict, total=False):
    id: Required[str]
    name: str
    description: str
    chunking: ChunkingJson


class DocumentStateJson(TypedDict, total=False):
    """A document's indexing state: in the document, and in its progress events."""

    status: str
    progress: float
    error: str | None
    error_code: str | None
    chunk_count: int


@final
class DocumentJson(DocumentStateJson, total=False):
    id: Required[str]
    name: str


@final
class CrawlJson(TypedDict):
    status: str
    url: str
    depth: int


class HitJson(TypedDict, total=False):
    document_id: Required[str]
    chunk_index: int
    title: str
    text: str
    score: float


Command = Callable[["KbClient", argparse.Namespace], int]


class KbClient:
    """The knowledge-base endpoints; a server's error JSON is raised as a ``ChorusError``."""

    def __init__(
        self,
        url: str,
        workspace: str,
        timeout: float = 60.0,
        *,
        credential: str | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"X-Workspace-Id": workspace}
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, auth=auth)

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: JsonValue = None,
        files: dict[str, BinaryIO] | None = None,
    ) -> httpx.Response:
        """``path`` is relative to ``/api/knowledge-bases`` ("" for the collection)."""
        resp = self.http.request(method, PREFIX + path, json=body, files=files)
        raise_for_error(resp)
        return resp

    def create_kb(self, body: dict[str, JsonValue]) -> KnowledgeBaseJson:
        kb: KnowledgeBaseJson = self.call("POST", "", body=body).json()
        return kb

    def list_kbs(self) -> list[KnowledgeBaseJson]:
        page: Page[KnowledgeBaseJson] = self.call("GET", "").json()
        return page["data"]

    def upload(self, kb_id: str, file: BinaryIO) -> DocumentJson:
        doc: DocumentJson = self.call("POST", f"/{kb_id}/documents", files={"file": file}).json()
        return doc

    def add_url(self, kb_id: str, body: dict[str, JsonValue]) -> DocumentJson | CrawlJson:
        added: DocumentJson | CrawlJson = self.call("POST", f"/{kb_id}/urls", body=body).json()
        return added

    def documents(self, kb_id: str) -> list[DocumentJson]:
        page: Page[DocumentJson] = self.call("GET", f"/{kb_id}/documents").json()
        return page["data"]

    def document(self, kb_id: str, doc_id: str) -> DocumentJson:
        doc: DocumentJson = self.call("GET", f"/{kb_id}/documents/{doc_id}").json()
        return doc

    def reindex(self, kb_id: str, doc_id: str) -> DocumentJson:
        doc: DocumentJson = self.call("POST", f"/{kb_id}/documents/{doc_id}/reindex").json()
        return doc

    def query(self, kb_id: str, body: dict[str, JsonValue]) -> list[HitJson]:
        page: Page[HitJson] = self.call("POST", f"/{kb_id}/query", body=body).json()
        return page["data"]

    def events(self, kb_id: str, doc_id: str) -> Iterator[DocumentStateJson]:
        """A document's ``document_progress`` events, until it is ready or failed."""
        path = f"{PREFIX}/{kb_id}/documents/{doc_id}/events"
        # No read timeout: a long parse may send nothing for a while.
        with self.http.stream("GET", path, timeout=httpx.Timeout(30.0, read=None)) as resp:
            if resp.is_error:
                resp.read()
                raise_for_error(resp)
            for line in resp.iter_lines():
                if line.startswith("data:"):
                    event: DocumentStateJson = json.loads(line[5:])
                    yield event


class ProgressBar:
    """One document's line on ``out``, redrawn in place with ``\\r``."""

    def __init__(self, name: str, out: TextIO, width: int = 0) -> None:
        self.label, self.out, self.drawn = name.ljust(width), out, 0

    def draw(self, progress: float, status: str, end: bool = False) -> None:
        done = round(max(0.0, min(1.0, progress)) * BAR_WIDTH)
        line = f"{self.label}  [{'#' * done}{'-' * (BAR_WIDTH - done)}] {progress:4.0%}  {status}"
        self.out.write("\r" + line.ljust(self.drawn) + ("\n" if end else ""))
        self.out.flush()
        self.drawn = len(line)


def follow(client: KbClient, kb_id: str, doc: DocumentJson, width: int = 0) -> bool:
    """Draw a document's progress until it is ready (True) or failed (False)."""
    bar = ProgressBar(doc.get("name") or doc["id"], sys.stderr, width)
    last: DocumentStateJson = doc
    bar.draw(doc.get("progress", 0.0), doc.get("status", "queued"))
    try:
        for event in client.events(kb_id, doc["id"]):
            last = event
            if event["status"] in TERMINAL:
                break
            bar.draw(event.get("progress", 0.0), event["status"])
        if last.get("status") not in TERMINAL:  # the stream ended early; ask once more
            last = client.document(kb_id, doc["id"])
    except BaseException:  # the error message goes on a line of its own
        bar.out.write("\n")
        raise
    status = last.get("status", "unknown")
    if status == "ready":
        bar.draw(1.0, f"ready ({last.get('chunk_count', 0)} chunks)", end=True)
        return True
    reason = last.get("error") or last.get("error_code") or "no reason given"
    text = f"failed: {reason}" if status == "failed" else f"still {status} (stream ended)"
    bar.draw(last.get("progress", 0.0), text, end=True)
    return False


def _table(headers: list[str], rows: list[list[str]]) -> str:
    cells = [headers, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def create(client: KbClient, args: argparse.Namespace) -> int:
    chunking: dict[str, JsonValue] = {}
    if args.chunk_tokens is not None:
        chunking["max_tokens"] = args.chunk_tokens
    if args.overlap is not None:
        chunking["overlap_tokens"] = args.overlap
    if args.parent_child:
        chunking["mode"] = "parent_child"
    body: dict[str, JsonValue] = {
        "name": args.name,
        "description": args.description,
        "chunking": chunking,
    }
    print(client.create_kb(body)["id"])
    return 0


def list_kbs(client: KbClient, args: argparse.Namespace) -> int:
    kbs = client.list_kbs()
    rows = [[k["id"], k["name"], k["chunking"]["mode"], k["description"]] for k in kbs]
    print(_table(["ID", "NAME", "CHUNKING", "DESCRIPTION"], rows))
    return 0


def delete(client: KbClient, args: argparse.Namespace) -> int:
    client.call("DELETE", f"/{args.kb_id}")
    print(f"deleted {args.kb_id}")
    return 0


def upload(client: KbClient, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 1
    failed = 0
    docs: list[DocumentJson] = []
    for path in paths:
        try:
            with path.open("rb") as fh:
                docs.append(client.upload(args.kb_id, fh))
        except ChorusError as exc:
            print(f"error: {path.name}: {exc.message} ({exc.code})", file=sys.stderr)
            failed += 1
        except OSError as exc:
            print(f"error: {path}: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
    for doc in docs:
        print(doc["id"])
    if not args.no_wait:
        width = max((len(d.get("name", "")) for d in docs), default=0)
        failed += sum(not follow(client, args.kb_id, doc, width) for doc in docs)
    return 1 if failed else 0


def add_url(client: KbClient, args: argparse.Namespace) -> int:
    body: dict[str, JsonValue] = {
        "url": args.page_url,
        "depth": args.depth,
        "max_pages": args.max_pages,
    }
    doc = client.add_url(args.kb_id, body)
    if "id" not in doc:  # a crawl: its pages appear as documents while it runs
        print(f"crawling {args.page_url} (depth {args.depth}, at most {args.max_pages} pages);")
        print(f"see `chorus kb docs {args.kb_id}`")
        return 0
    print(doc["id"])
    return 0 if args.no_wait or follow(client, args.kb_id, doc) else 1


def docs(client: KbClient, args: argparse.Namespace) -> int:
    rows = []
    for d in client.documents(args.kb_id):
        error = f"{d['error']} ({d['error_code']})" if d.get("error_code") else d.get("error") or ""
        rows.append([d["id"], d["name"], d["status"], str(d.get("chunk_count", 0)), error])
    print(_table(["ID", "NAME", "STATUS", "CHUNKS", "ERROR"], rows))
    return 0


def rm_doc(client: KbClient, args: argparse.Namespace) -> int:
    client.call("DELETE", f"/{args.kb_id}/documents/{args.doc_id}")
    print(f"deleted {args.doc_id}")
    return 0


def reindex(client: KbClient, args: argparse.Namespace) -> int:
    doc = client.reindex(args.kb_id, args.doc_id)
    return 0 if args.no_wait or follow(client, args.kb_id, doc) else 1


def query(client: KbClient, args: argparse.Namespace) -> int:
    body: dict[str, JsonValue] = {
        "query": args.question,
        "options": {"mode": args.mode, "top_k": args.top_k},
    }
    hits = client.query(args.kb_id, body)
    if not hits:
        print("no matching chunks")
        return 0
    names = {d["id"]: d["name"] for d in client.documents(args.kb_id)}
    for rank, hit in enumerate(hits, 1):
        doc = hit["document_id"]
        source = names.get(doc) or hit.get("title") or doc
        print(f"{rank}. score {hit['score']:.4f}  {source}  ({doc} #{hit['chunk_index']})")
        print(textwrap.indent(hit["text"].strip(), "   "))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the ``kb`` subcommand ``args.kb_func``; errors become a message and exit code 1."""
    url = server_url(getattr(args, "url", None))
    client = KbClient(
        url,
        getattr(args, "workspace", None) or DEFAULT_WORKSPACE,
        auth=auth_for(url, getattr(args, "api_key", None)),
    )
    try:
        return guarded(url, lambda: args.kb_func(client, args))
    finally:
        client.close()


def add_kb_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``chorus kb ...`` on the top-level subparsers; the command runs with ``run``."""
    kb = sub.add_parser("kb", help="manage knowledge bases on a running server")
    add_server_options(kb)
    cmds = kb.add_subparsers(dest="kb_command", required=True)

    def command(name: str, func: Command, help: str) -> argparse.ArgumentParser:
        parser = cmds.add_parser(name, help=help)
        add_server_options(parser)
        parser.set_defaults(kb_func=func)
        return parser

    p = command("create", create, "create a knowledge base; prints its id")
    p.add_argument("name")
    p.add_argument("--description", default="")
    p.add_argument("--chunk-tokens", type=int, help="chunk size in tokens (server default 256)")
    p.add_argument("--overlap", type=int, help="overlap between chunks in tokens (default 32)")
    p.add_argument(
        "--parent-child", action="store_true", help="retrieve small chunks, give their section"
    )
    command("list", list_kbs, "list knowledge bases")
    command("delete", delete, "delete a knowledge base and its chunks").add_argument("kb_id")
    p = command("upload", upload, "upload files and show their indexing progress")
    p.add_argument("kb_id")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--no-wait", action="store_true", help="do not follow the progress")
    p = command("add-url", add_url, "ingest a web page, or crawl a site with --depth")
    p.add_argument("kb_id")
    p.add_argument("page_url", metavar="URL")  # not `url`: that is the server's
    p.add_argument("--depth", type=int, default=0, help="follow same-site links this deep")
    p.add_argument("--max-pages", type=int, default=20, help="most pages a crawl ingests")
    p.add_argument("--no-wait", action="store_true", help="do not follow the progress")
    command("docs", docs, "list a knowledge base's documents").add_argument("kb_id")
    p = command("rm-doc", rm_doc, "delete a document")
    p.add_argument("kb_id")
    p.add_argument("doc_id")
    p = command("reindex", reindex, "index a document again and show the progress")
    p.add_argument("kb_id")
    p.add_argument("doc_id")
    p.add_argument("--no-wait", action="store_true", help="do not follow the progress")
    p = command("query", query, "the ranked chunks for a question (retrieval test)")
    p.add_argument("kb_id")
    p.add_argument("question")
    p.add_argument("--mode", choices=["hybrid", "vector", "keyword"], default="hybrid")
    p.add_argument("--top-k", type=int, default=5)
