"""Custom OpenAPI tools against a real HTTP API of the test's own on 127.0.0.1: the spec
is fetched by URL through the SSRF guard, the tools call the API with the stored
(encrypted) secret, and the REST API never shows the secret. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from agents.errors import NotFoundError
from agents.tools.base import BaseTool, ToolError
from agents.tools.openapi import ToolAuth
from agents.tools.registry import ToolRegistry
from agents.tools.secret_box import SecretBox, SecretBoxError, SecretDecryptError
from agents.tools.service import ToolService
from channels.errors import install_error_handlers
from channels.tools_api import router
from cluster.outbound.guard import GuardedFetcher, OutboundBlockedError, OutboundPolicy
from cluster.store import SqlToolProviderStore
from cluster.store.engine import create_store_engine
from cluster.store.tables.tools import ToolProviderRow
from tests.integration.edge import keyed

pytestmark = pytest.mark.integration

API_KEY = "k-" + uuid.uuid4().hex
TOKEN = "t-" + uuid.uuid4().hex

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Inventory", "version": "1.0"},
    "servers": [{"url": "/api"}],  # relative: resolved against the spec's own URL
    "paths": {
        "/items/{item_id}": {
            "get": {
                "operationId": "getItem",
                "summary": "Get an item",
                "parameters": [
                    {
                        "name": "item_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                ],
            }
        },
        "/items": {
            "post": {
                "operationId": "createItem",
                "summary": "Create an item",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                    },
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
            }
        },
        "securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "token": {"type": "http", "scheme": "bearer"},
        },
    },
}


@dataclass
class InventoryApi:
    port: int
    seen: list[dict[str, str]] = field(default_factory=list)

    @property
    def spec_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/openapi.json"


def _handler(api: list[InventoryApi]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            api[0].seen.append(dict(self.headers.items()))
            query = dict(parse_qsl(urlsplit(self.path).query))
            return (
                self.headers.get("X-Api-Key") == API_KEY
                or self.headers.get("Authorization") == f"Bearer {TOKEN}"
                or query.get("api_key") == API_KEY
            )

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path, _, query = self.path.partition("?")
            if path == "/openapi.json":
                return self._send(200, SPEC)
            if not self._authorised():
                return self._send(401, {"error": "bad credentials"})
            if path.startswith("/api/items/"):
                item_id = path.rsplit("/", 1)[1]
                shown = "&".join(p for p in query.split("&") if not p.startswith("api_key="))
                return self._send(200, {"id": int(item_id), "query": shown})
            return self._send(404, {"error": "no such path"})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            if not self._authorised():
                return self._send(401, {"error": "bad credentials"})
            return self._send(201, {"created": body})

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def inventory() -> Iterator[InventoryApi]:
    holder: list[InventoryApi] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.append(InventoryApi(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
    server.server_close()


class ClockTool(BaseTool):
    name = "clock"
    description = "A built-in stand-in."

    async def run(self, arguments: dict[str, Any]) -> Any:
        return "noon"


@pytest.fixture
async def service(
    database_url: str, tmp_path: Path, inventory: InventoryApi
) -> AsyncIterator[ToolService]:
    store = SqlToolProviderStore(database_url)
    await store.start()
    guard = GuardedFetcher(OutboundPolicy(allow_hosts=[f"127.0.0.1:{inventory.port}"]))
    box = SecretBox.for_data_dir(tmp_path / "data")
    yield ToolService(ToolRegistry([ClockTool()]).freeze(), store, box, guard)
    await guard.aclose()
    await store.close()


def workspace() -> str:
    return "ws_" + uuid.uuid4().hex[:12]  # PostgreSQL is shared by the whole session


async def test_tools_imported_by_url_call_the_api_with_the_key(
    service: ToolService, inventory: InventoryApi
) -> None:
    ws = workspace()
    auth = ToolAuth(type="api_key_header", name="X-Api-Key")
    record, report = await service.import_openapi(
        ws, "inventory", url=inventory.spec_url, auth=auth, secret=API_KEY
    )
    assert [t.name for t in report.tools] == ["getItem", "createItem"]
    assert record.has_secret and report.suggested_auth == auth
    tools = await service.tools_for(ws)
    assert tools.names() == ["clock", "createItem", "getItem"]

    got = await tools.get("getItem").call({"item_id": 42, "verbose": True})
    assert got == {"id": 42, "query": "verbose=true"}
    assert inventory.seen[-1]["X-Api-Key"] == API_KEY
    created = await tools.get("createItem").call({"body": {"name": "bolt", "qty": 3}})
    assert created == {"created": {"name": "bolt", "qty": 3}}

    listed = {t["name"]: t for t in await service.list_tools(ws)}
    assert listed["clock"]["source"] == "builtin"
    assert listed["getItem"]["source"] == "openapi"
    assert listed["getItem"]["provider_id"] == record.id
    assert listed["createItem"]["parameters"]["required"] == ["body"]


async def test_bearer_tokens_and_wrong_keys(service: ToolService, inventory: InventoryApi) -> None:
    ws = workspace()
    await service.import_openapi(
        ws, "by token", url=inventory.spec_url, auth=ToolAuth(type="bearer"), secret=TOKEN
    )
    tools = await service.tools_for(ws)
    assert (await tools.get("getItem").call({"item_id": 1}))["id"] == 1
    assert inventory.seen[-1]["Authorization"] == f"Bearer {TOKEN}"

    other = workspace()
    auth = ToolAuth(type="api_key_header", name="X-Api-Key")
    await service.import_openapi(
        other, "wrong", url=inventory.spec_url, auth=auth, secret="not-the-key"
    )
    with pytest.raises(ToolError) as info:
        await (await service.tools_for(other)).get("getItem").call({"item_id": 1})
    assert info.value.code == "tool_http_error" and info.value.details["status"] == 401


async def test_the_secret_is_stored_encrypted_and_never_shown(
    service: ToolService, database_url: str, inventory: InventoryApi, tmp_path: Path
) -> None:
    ws = workspace()
    auth = ToolAuth(type="api_key_query", name="api_key")
    record, _ = await service.import_openapi(
        ws,
        "inventory",
        spec=json.dumps(SPEC),
        auth=auth,
        secret=API_KEY,
        base_url=f"http://127.0.0.1:{inventory.port}/api",
    )
    engine = create_store_engine(database_url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    ToolProviderRow.__table__.select().where(ToolProviderRow.id == record.id)
                )
            ).one()
    finally:
        await engine.dispose()
    assert row.secret_encrypted and API_KEY not in row.secret_encrypted
    assert API_KEY not in json.dumps([row.spec, row.auth, row.name])
    assert SecretBox.for_data_dir(tmp_path / "data").decrypt(row.secret_encrypted) == API_KEY
    stored = await service.store.get_provider(ws, record.id)
    assert API_KEY not in stored.model_dump_json() and API_KEY not in record.model_dump_json()
    assert await service.store.get_secret(ws, record.id) == row.secret_encrypted
    # the query-string key reaches the server
    got = await (await service.tools_for(ws)).get("getItem").call({"item_id": 9})
    assert got["id"] == 9 and inventory.seen[-1].get("X-Api-Key") is None


async def test_providers_are_scoped_by_workspace(service: ToolService) -> None:
    ws, other = workspace(), workspace()
    record, _ = await service.import_openapi(ws, "inv", spec=json.dumps(SPEC), base_url="http://h")
    with pytest.raises(NotFoundError):
        await service.store.get_provider(other, record.id)
    with pytest.raises(NotFoundError):
        await service.store.get_secret(other, record.id)
    with pytest.raises(NotFoundError):
        await service.delete_provider(other, record.id)
    assert (await service.tools_for(other)).names() == ["clock"]
    # a second import of the same API gets names that do not clash
    _, report = await service.import_openapi(
        ws, "again", spec=json.dumps(SPEC), base_url="http://h"
    )
    assert [t.name for t in report.tools] == ["getItem_2", "createItem_2"]
    assert len((await service.tools_for(ws)).names()) == 5
    await service.delete_provider(ws, record.id)
    assert [p.name for p in await service.store.list_providers(ws)] == ["again"]
    assert "getItem" not in (await service.tools_for(ws)).names()


async def test_rest_api_never_returns_the_secret(
    service: ToolService, inventory: InventoryApi
) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.services = SimpleNamespace(tools=service)
    ws = workspace()
    headers = (await keyed(app, ws))[ws]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = {
            "name": "inventory",
            "url": inventory.spec_url,
            "auth": {"type": "api_key_header", "name": "X-Api-Key"},
            "secret": API_KEY,
        }
        created = await client.post("/api/tools/openapi", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert API_KEY not in created.text
        provider = created.json()["provider"]
        assert provider["has_secret"] is True and "secret" not in provider
        assert created.json()["report"]["tools"][0]["name"] == "getItem"

        tools = (await client.get("/api/tools", headers=headers)).json()["data"]
        assert {t["name"]: t["source"] for t in tools} == {
            "clock": "builtin",
            "createItem": "openapi",
            "getItem": "openapi",
        }
        providers = await client.get("/api/tools/providers", headers=headers)
        assert API_KEY not in providers.text
        assert [p["id"] for p in providers.json()["data"]] == [provider["id"]]

        both = await client.post("/api/tools/openapi", json={**body, "spec": "{}"}, headers=headers)
        assert both.status_code == 400 and API_KEY not in both.text
        bad = await client.post(
            "/api/tools/openapi", json={"name": "x", "spec": "swagger: '2.0'"}, headers=headers
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "openapi_invalid"

        gone = await client.delete(f"/api/tools/providers/{provider['id']}", headers=headers)
        assert gone.status_code == 204
        missing = await client.delete(f"/api/tools/providers/{provider['id']}", headers=headers)
        assert missing.status_code == 404


async def test_without_the_allowlist_the_loopback_spec_is_refused(
    database_url: str, tmp_path: Path, inventory: InventoryApi
) -> None:
    store = SqlToolProviderStore(database_url)
    await store.start()
    guard = GuardedFetcher()
    service = ToolService(ToolRegistry(), store, SecretBox.for_data_dir(tmp_path), guard)
    ws = workspace()
    try:
        with pytest.raises(OutboundBlockedError, match="loopback"):
            await service.import_openapi(ws, "inv", url=inventory.spec_url)
        # a document given as text that points at loopback: its calls are refused too
        await service.import_openapi(
            ws, "inv", spec=json.dumps(SPEC), base_url=f"http://127.0.0.1:{inventory.port}/api"
        )
        with pytest.raises(OutboundBlockedError):
            await (await service.tools_for(ws)).get("getItem").call({"item_id": 1})
    finally:
        await guard.aclose()
        await store.close()


def test_the_key_file_is_private_and_a_wrong_key_is_a_typed_error(tmp_path: Path) -> None:
    box = SecretBox.for_data_dir(tmp_path / "data")
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    sealed = box.encrypt("hunter2")
    assert "hunter2" not in sealed
    assert SecretBox.for_data_dir(tmp_path / "data").decrypt(sealed) == "hunter2"
    with pytest.raises(SecretDecryptError) as info:
        SecretBox.for_data_dir(tmp_path / "elsewhere").decrypt(sealed)
    assert info.value.code == "secret_undecryptable"
    with pytest.raises(SecretBoxError):
        SecretBox(b"not a fernet key")
