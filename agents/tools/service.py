"""Custom tools on the server: OpenAPI documents imported per workspace, their secrets
encrypted at rest, their calls made through the SSRF guard.

A workspace's tools are the built-in registry plus the tools of its providers, rebuilt
from the stored documents (and cached per provider version) at each lookup, so every
gateway replica sees an import or a deletion at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import structlog

from agents import error_codes
from agents.errors import InvalidInputError
from agents.outbound import HttpClientProtocol
from agents.tools.base import BaseTool
from agents.tools.openapi import (
    ImportReport,
    OpenApiTool,
    ToolAuth,
    build_tools,
    load_openapi,
)
from agents.tools.records import ToolProviderRecord
from agents.tools.registry import ToolRegistry
from agents.tools.secret_box import SecretBox, SecretBoxError
from agents.tools.store import ToolProviderStoreProtocol

log = structlog.get_logger(__name__)
MAX_SPEC_BYTES = 5 * 1024 * 1024


class ToolService:
    def __init__(
        self,
        builtins: ToolRegistry,
        store: ToolProviderStoreProtocol,
        box: SecretBox,
        http: HttpClientProtocol,
        *,
        reserved: Iterable[str] = ("search_knowledge",),
    ) -> None:
        self.builtins = builtins
        #: Names never given to imported tools: the built-ins' and those added per app.
        self.reserved = set(builtins.names()) | set(reserved)
        self.store = store
        self._box = box
        self._http = http
        #: workspace → provider id → (its updated_at, its tools)
        self._built: dict[str, dict[str, tuple[datetime, list[OpenApiTool]]]] = {}

    async def import_openapi(
        self,
        workspace_id: str,
        name: str,
        *,
        spec: str | None = None,
        url: str | None = None,
        auth: ToolAuth | None = None,
        secret: str | None = None,
        base_url: str | None = None,
    ) -> tuple[ToolProviderRecord, ImportReport]:
        """Import the document given as text (``spec``) or fetched from ``url`` through the
        guard; stores the provider (secret encrypted) and returns it with the report."""
        auth = auth or ToolAuth()
        if (spec is None) == (url is None):
            raise InvalidInputError("give the OpenAPI document as text or as a URL, not both")
        if auth.type == "none" and secret:
            raise InvalidInputError("a secret needs an auth type", param="auth.type")
        if auth.type != "none" and not secret:
            raise InvalidInputError(f"auth type {auth.type} needs a secret", param="secret")
        if base_url is not None and urlsplit(base_url).scheme not in ("http", "https"):
            raise InvalidInputError("base_url must be an http or https URL", param="base_url")
        spec_url = None
        if url is not None:
            spec, spec_url = await self._fetch_spec(url)
        document = load_openapi(spec or "")
        existing = await self.store.list_providers(workspace_id)
        reserved = set(self.reserved)
        for provider in existing:
            reserved.update(provider.tool_names.values())
        tools, report = build_tools(
            document,
            self._http,
            auth=auth,
            secret=secret,
            base_url=base_url,
            spec_url=spec_url,
            reserved=reserved,
        )
        if not tools:
            raise InvalidInputError(
                "no operation of the OpenAPI document could be imported",
                code=error_codes.OPENAPI_NO_TOOLS,
                details={"report": report.model_dump(mode="json")},
            )
        record = ToolProviderRecord(
            workspace_id=workspace_id,
            name=name,
            document=document,
            spec_url=spec_url,
            base_url=base_url,
            auth=auth,
            tool_names={t.operation.key: t.name for t in tools},
        )
        sealed = self._box.encrypt(secret) if secret else None
        record = await self.store.create_provider(record, sealed)
        log.info(
            "tool_provider_imported",
            workspace_id=workspace_id,
            provider_id=record.id,
            tools=len(tools),
            items=len(report.items),
        )
        return record, report

    async def _fetch_spec(self, url: str) -> tuple[str, str]:
        result = await self._http.fetch(
            url,
            headers={"Accept": "application/json, application/yaml;q=0.9, */*;q=0.5"},
            max_bytes=MAX_SPEC_BYTES,
        )
        if result.status_code >= 400:
            raise InvalidInputError(
                f"fetching the OpenAPI document answered HTTP {result.status_code}",
                code=error_codes.OPENAPI_FETCH_FAILED,
                param="url",
            )
        final_url = str(getattr(result, "url", "") or url)
        return result.content.decode("utf-8-sig", "replace"), final_url

    async def delete_provider(self, workspace_id: str, provider_id: str) -> None:
        await self.store.delete_provider(workspace_id, provider_id)
        self._built.get(workspace_id, {}).pop(provider_id, None)

    async def tools_for(self, workspace_id: str) -> ToolRegistry:
        """The built-in tools plus the workspace's own (a read-only registry)."""
        providers = await self.store.list_providers(workspace_id)
        secrets = await self.store.list_secrets(workspace_id) if providers else {}
        cache = self._built.setdefault(workspace_id, {})
        for gone in set(cache) - {p.id for p in providers}:
            del cache[gone]
        names = set(self.reserved)
        extra: list[BaseTool] = []
        for provider in providers:
            cached = cache.get(provider.id)
            if cached is None or cached[0] != provider.updated_at:
                try:
                    cached = (provider.updated_at, self._build(provider, secrets.get(provider.id)))
                except (SecretBoxError, InvalidInputError) as exc:
                    log.warning("tool_provider_unusable", provider_id=provider.id, error=str(exc))
                    continue
                cache[provider.id] = cached
            for tool in cached[1]:
                if tool.name in names:
                    log.warning("tool_name_taken", provider_id=provider.id, tool=tool.name)
                    continue
                names.add(tool.name)
                extra.append(tool)
        return self.builtins.with_extra(extra)

    def _build(self, provider: ToolProviderRecord, sealed: str | None) -> list[OpenApiTool]:
        tools, _ = build_tools(
            provider.document,
            self._http,
            auth=provider.auth,
            secret=self._box.decrypt(sealed) if sealed else None,
            base_url=provider.base_url,
            spec_url=provider.spec_url,
            provider_id=provider.id,
            names=provider.tool_names,
        )
        return tools

    async def list_tools(self, workspace_id: str) -> list[dict[str, Any]]:
        """Every tool the workspace can use, with its schema and source."""
        return (await self.tools_for(workspace_id)).list()
