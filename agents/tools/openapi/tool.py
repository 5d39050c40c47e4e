"""The tool that calls one imported operation through the guarded HTTP client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from agents import error_codes
from agents.errors import ChorusError, InvalidInputError
from agents.outbound import HttpClientProtocol
from agents.tools.base import BaseTool, ToolArgumentsError, ToolError
from agents.tools.openapi.auth import ToolAuth
from agents.tools.openapi.importer import read_operations
from agents.tools.openapi.operation import OpenApiOperation, OperationParam
from agents.tools.openapi.report import ImportReport


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _query_pairs(p: OperationParam, value: Any) -> list[tuple[str, str]]:
    if p.as_json:
        return [(p.name, json.dumps(value, separators=(",", ":")))]
    if isinstance(value, dict):
        if p.style == "deepObject":
            return [(f"{p.name}[{k}]", _scalar(v)) for k, v in value.items()]
        if p.explode:
            return [(str(k), _scalar(v)) for k, v in value.items()]
        return [(p.name, ",".join(f"{k},{_scalar(v)}" for k, v in value.items()))]
    if isinstance(value, list):
        if p.explode and p.style == "form":
            return [(p.name, _scalar(v)) for v in value]
        sep = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(p.style, ",")
        return [(p.name, sep.join(_scalar(v) for v in value))]
    return [(p.name, _scalar(value))]


def _simple(p: OperationParam, value: Any, encode: bool) -> str:
    """Path and header values (style ``simple``)."""
    enc = (lambda s: quote(s, safe="")) if encode else (lambda s: s)
    if p.as_json:
        return enc(json.dumps(value, separators=(",", ":")))
    if isinstance(value, list):
        return ",".join(enc(_scalar(v)) for v in value)
    if isinstance(value, dict):
        joint = "=" if p.explode else ","
        return ",".join(f"{enc(str(k))}{joint}{enc(_scalar(v))}" for k, v in value.items())
    return enc(_scalar(value))


class OpenApiTool(BaseTool):
    """One operation of an imported API, called through the guarded HTTP client."""

    source = "openapi"
    max_response_bytes = 2 * 1024 * 1024

    def __init__(
        self,
        operation: OpenApiOperation,
        client: HttpClientProtocol,
        *,
        auth: ToolAuth | None = None,
        secret: str | None = None,
        provider_id: str = "",
    ) -> None:
        self.operation = operation
        self.name = operation.name
        self.description = operation.description
        self.parameters = operation.schema
        self.provider_id = provider_id
        self._client = client
        self._auth = auth or ToolAuth()
        if self._auth.type != "none" and not secret:
            raise InvalidInputError(f"auth type {self._auth.type} needs a secret", param="secret")
        self._secret = secret or ""

    def info(self) -> dict[str, Any]:
        return {**super().info(), "provider_id": self.provider_id, "operation": self.operation.key}

    def request(self, arguments: dict[str, Any]) -> tuple[str, dict[str, str], bytes | None]:
        """The URL, headers and body of the call for ``arguments``."""
        op = self.operation
        path, query = op.path, []
        headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.5"}
        for p in op.params:
            if p.arg not in arguments:
                continue
            value = arguments[p.arg]
            if p.location == "path":
                path = path.replace("{" + p.name + "}", _simple(p, value, encode=True))
            elif p.location == "query":
                query.extend(_query_pairs(p, value))
            else:
                text = _simple(p, value, encode=False)
                if "\r" in text or "\n" in text:
                    raise ToolArgumentsError(f"{self.name}: header {p.name} has a line break")
                headers[p.name] = text
        content = None
        if op.body_type is not None and "body" in arguments:
            headers["Content-Type"] = op.body_type
            content = json.dumps(arguments["body"], ensure_ascii=False).encode()
        if self._auth.type == "api_key_header":
            headers[self._auth.name] = self._secret
        elif self._auth.type == "bearer":
            headers["Authorization"] = f"Bearer {self._secret}"
        elif self._auth.type == "api_key_query":
            query.append((self._auth.name, self._secret))
        url = op.server_url.rstrip("/") + path
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, quote_via=quote)
        return url, headers, content

    async def run(self, arguments: dict[str, Any]) -> Any:
        """The parsed JSON answer (or its text); ToolError ``tool_http_error`` for 4xx/5xx."""
        url, headers, content = self.request(arguments)
        try:
            result = await self._client.fetch(
                url,
                method=self.operation.method,
                headers=headers,
                content=content,
                max_bytes=self.max_response_bytes,
            )
        except ChorusError as exc:
            raise self._redacted(exc) from None
        text = result.content.decode("utf-8", "replace")
        if result.status_code >= 400:
            excerpt = self._redact(text[:500])
            raise ToolError(
                f"{self.name}: the API answered HTTP {result.status_code}",
                code=error_codes.TOOL_HTTP_ERROR,
                details={"tool": self.name, "status": result.status_code, "body": excerpt},
            )
        content_type = result.headers.get("content-type", "").lower()
        if "json" in content_type and text.strip():
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _redacted(self, exc: ChorusError) -> ChorusError:
        """``exc`` with the secret (e.g. in a query string) taken out of its message."""
        exc.message = self._redact(exc.message)
        exc.args = (exc.message,)
        exc.details = json.loads(self._redact(json.dumps(exc.details, default=str)))
        if self._secret and self._secret in str(exc.__cause__):
            exc.__cause__ = None  # e.g. the HTTP library's error, quoting the URL
        return exc


def build_tools(
    doc: dict[str, Any],
    client: HttpClientProtocol,
    *,
    auth: ToolAuth | None = None,
    secret: str | None = None,
    base_url: str | None = None,
    spec_url: str | None = None,
    provider_id: str = "",
    names: dict[str, str] | None = None,
    reserved: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[OpenApiTool], ImportReport]:
    """One tool per importable operation of ``doc`` (see :func:`read_operations`)."""
    operations, report = read_operations(
        doc, base_url=base_url, spec_url=spec_url, names=names, reserved=reserved
    )
    tools = [
        OpenApiTool(op, client, auth=auth, secret=secret, provider_id=provider_id)
        for op in operations
    ]
    return tools, report
