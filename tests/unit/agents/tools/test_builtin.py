"""The built-in tools: schemas enforced, results, and typed failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from agents.errors import ChorusError
from agents.knowledge.index import ScoredChunk, SearchOptions
from agents.knowledge.retriever import RetrievedChunk
from agents.tools.base import ToolArgumentsError
from agents.tools.builtin import (
    CalculatorTool,
    ConvertTimeTool,
    CurrentTimeTool,
    HttpRequestTool,
    KnowledgeSearchTool,
    ReadWebpageTool,
    RunCodeTool,
    builtin_tools,
)
from agents.tools.registry import ToolRegistry


async def test_calculator_is_exact_and_safe() -> None:
    calc = CalculatorTool()
    assert (await calc.call({"expression": "(12.5 * 3) / 5"}))["result"] == 7.5
    assert (await calc.call({"expression": "sqrt(16) + factorial(4)"}))["result"] == 28.0
    for bad in ("__import__('os').system('id')", "().__class__", "open('/etc/passwd')", "1/0",
                "9 ** 9 ** 9", "'a' * 10"):  # fmt: skip
        with pytest.raises(ToolArgumentsError):
            await calc.call({"expression": bad})
    with pytest.raises(ToolArgumentsError, match="expression"):
        await calc.call({"expr": "1"})


async def test_clock_tools() -> None:
    now = await CurrentTimeTool().call({"timezone": "Asia/Shanghai"})
    assert now["timezone"] == "Asia/Shanghai" and now["utc_offset"] == "+0800"
    moved = await ConvertTimeTool().call(
        {"time": "2026-11-22T09:30:00", "from_timezone": "Europe/Paris",
         "to_timezone": "America/New_York"}
    )  # fmt: skip
    assert moved == {"time": "2026-11-22T03:30:00-05:00", "timezone": "America/New_York"}
    with pytest.raises(ToolArgumentsError, match="unknown time zone"):
        await CurrentTimeTool().call({"timezone": "Mars/Olympus"})


@dataclass
class Page:
    url: str
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/html"})
    content: bytes = b""


class FakeHttp:
    def __init__(self, page: Page | ChorusError) -> None:
        self.page = page
        self.calls: list[dict[str, Any]] = []

    async def fetch(self, url: str, **kw: Any) -> Page:
        self.calls.append({"url": url, **kw})
        if isinstance(self.page, ChorusError):
            raise self.page
        return self.page


async def test_web_tools_go_through_the_given_client() -> None:
    html = b"<html><head><title>Pandas</title></head><body><article><p>Giant pandas eat " \
        b"bamboo for most of the day.</p></article></body></html>"  # fmt: skip
    http = FakeHttp(Page("https://zoo.example/pandas", content=html))
    page = await ReadWebpageTool(http).call({"url": "https://zoo.example/pandas"})
    assert page["title"] == "Pandas" and "bamboo" in page["text"]
    api = FakeHttp(Page("u", headers={"content-type": "application/json"}, content=b'{"a": 1}'))
    out = await HttpRequestTool(api).call(
        {"url": "https://api.example/x", "method": "POST", "json_body": {"q": 1}}
    )
    assert out["json"] == {"a": 1} and api.calls[0]["content"] == b'{"q": 1}'
    blocked = FakeHttp(ChorusError("refusing", code="url_blocked"))
    with pytest.raises(ChorusError) as caught:
        await ReadWebpageTool(blocked).call({"url": "http://169.254.169.254/"})
    assert caught.value.code == "url_blocked"


class OneChunk:
    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str], str, SearchOptions]] = []

    async def retrieve(
        self, workspace_id: str, kb_ids: list[str], query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        self.asked.append((workspace_id, kb_ids, query, options))
        chunk = ScoredChunk(id="c", document_id="d", chunk_index=0, text="t", title="T", score=0.5)
        return [RetrievedChunk(kb_id=kb_ids[0], chunk=chunk)]


async def test_knowledge_search_is_bound_to_the_apps_bases() -> None:
    retriever = OneChunk()
    tool = KnowledgeSearchTool(retriever, "ws1", ["kb1", "kb2"])
    out = await tool.call({"query": "pandas", "top_k": 2})
    assert out["results"][0] == {"content": "t", "title": "T", "document_id": "d",
                                 "kb_id": "kb1", "score": 0.5}  # fmt: skip
    assert retriever.asked[0][:3] == ("ws1", ["kb1", "kb2"], "pandas")
    assert retriever.asked[0][3].top_k == 2


class EchoRunner:
    async def run_code(self, language: str, code: str, inputs: dict[str, Any], **kw: Any) -> Any:
        return {"language": language, "inputs": inputs}


async def test_run_code_and_the_registry() -> None:
    out = await RunCodeTool(EchoRunner()).call(
        {"language": "python3", "code": "def main(): return {}", "inputs": {"x": 1}}
    )
    assert out == {"language": "python3", "inputs": {"x": 1}}
    registry = ToolRegistry(builtin_tools(http=FakeHttp(Page("u")), code=EchoRunner())).freeze()
    assert registry.names() == ["calculator", "convert_time", "current_time", "http_request",
                                "read_webpage", "run_code"]  # fmt: skip
    assert registry.list()[0]["parameters"]["required"] == ["expression"]
    with pytest.raises(ChorusError) as caught:
        registry.get("nope")
    assert caught.value.code == "tool_not_found"
    with pytest.raises(RuntimeError):
        registry.register(CalculatorTool())
