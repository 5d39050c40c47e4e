"""http_request and read_webpage: outbound HTTP through the server's SSRF guard (the
client is injected; on the server it is ``cluster.outbound.guard.GuardedFetcher``)."""

from __future__ import annotations

import json
from typing import Any

from agents import error_codes
from agents.knowledge.parsing import DocumentError, parse
from agents.outbound import HttpClientProtocol
from agents.tools.base import BaseTool, ToolError

MAX_TEXT = 20_000


class HttpRequestTool(BaseTool):
    name = "http_request"
    description = "Make an HTTP GET or POST request to a public URL and return the response."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "http(s) URL"},
            "method": {"type": "string", "enum": ["GET", "POST"], "default": "GET"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "json_body": {"description": "Sent as JSON with POST."},
        },
        "required": ["url"],
        "additionalProperties": False,
    }

    def __init__(self, http: HttpClientProtocol, timeout_s: float = 20.0) -> None:
        self.http = http
        self.timeout_s = timeout_s

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        method = arguments.get("method", "GET")
        headers = dict(arguments.get("headers") or {})
        content = None
        if method == "POST" and "json_body" in arguments:
            content = json.dumps(arguments["json_body"]).encode()
            headers.setdefault("Content-Type", "application/json")
        response = await self.http.fetch(
            arguments["url"], method=method, headers=headers, content=content,
            max_bytes=2 * 1024 * 1024,
        )  # fmt: skip
        text = response.content.decode("utf-8", "replace")
        result: dict[str, Any] = {
            "status_code": response.status_code,
            "content_type": response.headers.get("content-type", ""),
            "text": text[:MAX_TEXT],
            "truncated": len(text) > MAX_TEXT,
        }
        if "json" in result["content_type"]:
            try:
                result["json"] = json.loads(text)
            except ValueError:
                pass
        return result


class ReadWebpageTool(BaseTool):
    name = "read_webpage"
    description = "Fetch a web page and return its title and main text (no markup)."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {"url": {"type": "string", "description": "http(s) URL of the page"}},
        "required": ["url"],
        "additionalProperties": False,
    }

    def __init__(self, http: HttpClientProtocol, timeout_s: float = 20.0) -> None:
        self.http = http
        self.timeout_s = timeout_s

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        url = arguments["url"]
        response = await self.http.fetch(url, max_bytes=5 * 1024 * 1024)
        if response.status_code >= 400:
            raise ToolError(
                f"{url} answered HTTP {response.status_code}",
                code=error_codes.TOOL_HTTP_ERROR,
                details={"status_code": response.status_code},
            )
        kind = response.headers.get("content-type", "text/html").split(";")[0]
        try:
            page = parse(response.content, "page.html" if "html" in kind else "page.txt", kind)
        except DocumentError as exc:
            raise ToolError(
                f"cannot read {url}: {exc.message}", code=error_codes.TOOL_FAILED
            ) from exc
        return {
            "url": response.url,
            "title": page.title,
            "text": page.text[:MAX_TEXT],
            "truncated": len(page.text) > MAX_TEXT,
        }
