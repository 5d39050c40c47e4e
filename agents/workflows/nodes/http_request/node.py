"""http-request: one HTTP call through the server's SSRF guard (private, loopback,
link-local and metadata addresses refused, also after redirects; an allowlist in the
settings). A 4xx/5xx answer, a timeout or a refused address fails the node."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

from agents import error_codes
from agents.errors import ChorusError
from agents.errors import TimeoutError as ChorusTimeout
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import NodeError
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference, refs_in
from agents.workflows.nodes.http_request.dify import map_http_request
from agents.workflows.nodes.http_request.entities import HttpRequestNodeData, KeyValue
from agents.workflows.variable_pool import VariablePool
from agents.workflows.variables import VarType

DEFAULT_TIMEOUT_S = 30.0


def _pairs(pool: VariablePool, items: list[KeyValue]) -> list[tuple[str, str]]:
    return [(pool.render(kv.key), pool.render(kv.value)) for kv in items]


class HttpRequestNode(BaseNode[HttpRequestNodeData]):
    type = "http-request"
    data_model = HttpRequestNodeData
    dify = DifyMapping(("http-request",), map_http_request)

    def output_types(self) -> dict[str, VarType]:
        return {"status_code": "integer", "body": "string", "headers": "object", "json": "any"}

    def references(self) -> list[Reference]:
        d = self.data
        refs = refs_in(d.url, "url") + refs_in(d.authorization.api_key, "authorization.api_key")
        for name, items in (("headers", d.headers), ("params", d.params)):
            for i, kv in enumerate(items):
                refs += refs_in(kv.key, f"{name}.{i}.key") + refs_in(kv.value, f"{name}.{i}.value")
        if isinstance(d.body.data, str):
            refs += refs_in(d.body.data, "body.data")
        else:
            for i, kv in enumerate(d.body.data):
                refs += refs_in(kv.value, f"body.data.{i}.value")
        return refs

    def _request(self, pool: VariablePool) -> tuple[str, dict[str, str], bytes | None]:
        d = self.data
        url = pool.render(d.url).strip()
        params = _pairs(pool, d.params)
        headers = {k: v for k, v in _pairs(pool, d.headers)}
        auth, secret = d.authorization, pool.render(d.authorization.api_key)
        if auth.type == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif auth.type == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
        elif auth.type == "api-key-header":
            headers[auth.name] = secret
        elif auth.type == "api-key-query":
            params.append((auth.name, secret))
        if params:
            parts = urlsplit(url)
            query = "&".join(p for p in (parts.query, urlencode(params)) if p)
            url = urlunsplit(parts._replace(query=query))
        content: bytes | None = None
        body = d.body
        if body.type in ("json", "raw-text"):
            text = pool.render(body.data) if isinstance(body.data, str) else ""
            if body.type == "json":
                try:
                    json.loads(text)
                except ValueError as exc:
                    raise NodeError(
                        f"the JSON body is not valid JSON after substitution: {exc}",
                        code=error_codes.HTTP_BODY_INVALID,
                    ) from exc
                headers.setdefault("Content-Type", "application/json")
            else:
                headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            content = text.encode()
        elif body.type == "x-www-form-urlencoded":
            items = body.data if isinstance(body.data, list) else []
            content = urlencode(_pairs(pool, items)).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body.type == "form-data":
            boundary = uuid.uuid4().hex
            items = body.data if isinstance(body.data, list) else []
            parts_out = [
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                for k, v in _pairs(pool, items)
            ]
            content = ("".join(parts_out) + f"--{boundary}--\r\n").encode()
            headers.setdefault("Content-Type", f"multipart/form-data; boundary={boundary}")
        return url, headers, content

    async def run(self, ctx: NodeContext) -> NodeResult:
        http = ctx.services.need("http")
        url, headers, content = self._request(ctx.pool)
        secret = ctx.pool.render(self.data.authorization.api_key)
        shown_url = url.replace(quote_plus(secret), "***") if secret else url
        shown = {"method": self.data.method, "url": shown_url, "headers": _redacted(headers)}
        timeout = self.data.timeout_s or DEFAULT_TIMEOUT_S
        try:
            response = await asyncio.wait_for(
                http.fetch(
                    url,
                    method=self.data.method,
                    headers=headers,
                    content=content,
                    max_bytes=self.data.max_response_bytes,
                ),
                timeout,
            )
        except TimeoutError:
            raise ChorusTimeout(f"{url} did not answer within {timeout:g} s") from None
        except ChorusError:
            raise
        text = response.content.decode("utf-8", "replace")
        parsed: Any = None
        if "json" in response.headers.get("content-type", ""):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        outputs = {
            "status_code": response.status_code,
            "body": text,
            "headers": dict(response.headers),
            "json": parsed,
        }
        if self.data.fail_on_error_status and response.status_code >= 400:
            raise NodeError(
                f"{self.data.method} {url} answered HTTP {response.status_code}",
                code=error_codes.HTTP_STATUS_ERROR,
                details={"status_code": response.status_code, "body": text[:2000]},
            )
        return NodeResult(outputs=outputs, inputs=shown)


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    secret = {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"}
    return {k: ("***" if k.lower() in secret else v) for k, v in headers.items()}
