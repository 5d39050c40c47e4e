"""OpenAPI documents become tools: references, parameters, bodies, names, the import
report, bad documents; and each tool's call, checked on a fake HTTP client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from agents.errors import InvalidInputError, UpstreamError
from agents.tools.base import ToolArgumentsError, ToolError
from agents.tools.openapi import (
    OpenApiError,
    OpenApiTool,
    ToolAuth,
    build_tools,
    load_openapi,
    sanitise_name,
)


@dataclass
class FakeResponse:
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    content: bytes = b"{}"


@dataclass
class FakeHttpClient:
    """Answers every call with ``response`` and keeps what it was asked."""

    response: FakeResponse = field(default_factory=FakeResponse)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: Exception | None = None

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
    ) -> FakeResponse:
        self.calls.append({"url": url, "method": method, "headers": headers, "content": content})
        if self.fail is not None:
            raise self.fail
        return self.response


PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string", "example": "Rex"},
        "tag": {"type": "string", "nullable": True},
        "parent": {"$ref": "#/components/schemas/Pet"},
    },
}

DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "servers": [
        {"url": "https://{region}.pets.example/v1", "variables": {"region": {"default": "eu"}}}
    ],
    "paths": {
        "/pets/{petId}": {
            "parameters": [{"$ref": "#/components/parameters/PetId"}],
            "get": {
                "operationId": "getPet",
                "summary": "Get one pet",
                "parameters": [
                    {
                        "name": "fields",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                    {"name": "petId", "in": "query", "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                ],
            },
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/pets": {
            "post": {
                "operationId": "add pet!",
                "description": "Add a pet",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    },
                },
                "callbacks": {"onAdd": {}},
            },
            "put": {
                "operationId": "uploadPet",
                "requestBody": {"required": True, "content": {"multipart/form-data": {}}},
            },
        },
        "/other": {"get": {"operationId": "getPet", "servers": [{"url": "https://other.example"}]}},
    },
    "components": {
        "schemas": {"Pet": PET},
        "parameters": {
            "PetId": {
                "name": "petId",
                "in": "path",
                "required": True,
                "schema": {"type": "integer"},
            }
        },
        "securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "oauth": {"type": "oauth2", "flows": {}},
        },
    },
    "webhooks": {"newPet": {}},
}


def tools_of(doc: dict[str, Any], **kwargs: Any) -> tuple[dict[str, OpenApiTool], Any]:
    tools, report = build_tools(load_openapi(json.dumps(doc)), FakeHttpClient(), **kwargs)
    return {t.name: t for t in tools}, report


def test_one_tool_per_operation_with_unique_sanitised_names() -> None:
    tools, report = tools_of(DOC)
    assert sorted(tools) == ["add_pet", "delete_pets_petId", "getPet", "getPet_2"]
    assert [(t.name, t.operation) for t in report.tools][0] == ("getPet", "GET /pets/{petId}")
    assert tools["getPet"].description == "Get one pet"
    assert tools["add_pet"].description == "Add a pet"
    assert tools["getPet_2"].operation.server_url == "https://other.example"
    assert tools["getPet"].operation.server_url == "https://eu.pets.example/v1"
    assert tools["getPet"].source == "openapi"
    assert sanitise_name("a.b/c d") == "a_b_c_d" and len(sanitise_name("x" * 99)) == 64


def test_parameters_are_flat_and_the_body_is_one_property() -> None:
    tools, _ = tools_of(DOC)
    schema = tools["getPet"].parameters
    assert set(schema["properties"]) == {"petId", "fields", "X-Trace", "petId_query"}
    assert schema["properties"]["petId"] == {"type": "integer"}
    assert schema["required"] == ["petId"]
    assert schema["additionalProperties"] is False
    body = tools["add_pet"].parameters["properties"]["body"]
    assert tools["add_pet"].parameters["required"] == ["body"]
    # refs inlined, the recursion cut, readOnly dropped from a request, 3.0 nullable rewritten
    assert set(body["properties"]) == {"name", "tag", "parent"}
    assert body["properties"]["tag"]["type"] == ["string", "null"]
    assert "example" not in body["properties"]["name"]
    assert "recursive" in body["properties"]["parent"]["description"]
    json.dumps(body)  # plain data, no cycles


def test_report_names_what_was_not_imported() -> None:
    _, report = tools_of(DOC)
    found = {(i.kind, i.where) for i in report.items}
    assert ("parameter", "GET /pets/{petId}") in found  # the cookie parameter
    assert ("request_body", "PUT /pets") in found  # multipart: the operation is skipped
    assert ("callback", "POST /pets") in found
    assert ("webhook", "webhooks.newPet") in found
    assert ("security_scheme", "components.securitySchemes.oauth") in found
    assert ("name", "GET /other") in found
    assert report.suggested_auth == ToolAuth(type="api_key_header", name="X-Api-Key")
    assert report.title == "Pets"


def test_operations_without_a_server_url_are_reported() -> None:
    doc = {"openapi": "3.1.0", "paths": {"/a": {"get": {}}}, "servers": [{"url": "/api"}]}
    tools, report = tools_of(doc)
    assert tools == {} and report.items[0].kind == "server"
    tools, _ = tools_of(doc, spec_url="https://x.example/spec.json")
    assert tools["get_a"].operation.server_url == "https://x.example/api"
    tools, _ = tools_of(doc, base_url="https://y.example/base/")
    assert tools["get_a"].operation.server_url == "https://y.example/base/"


def test_yaml_and_reference_problems() -> None:
    text = """
openapi: 3.1.0
servers: [{url: "https://api.example"}]
paths:
  /loop:
    get:
      parameters: [{$ref: "#/components/parameters/A"}]
  /far:
    get:
      requestBody: {$ref: "other.yaml#/Body"}
  /ok:
    get:
      operationId: ok
      parameters:
        - name: n
          in: query
          required: true
          content: {application/json: {schema: {type: object}}}
        - {name: x, in: query, content: {text/csv: {}}}
  /broken:
    get:
      parameters: [{name: a, in: query, schema: {type: string}, style: [1]}]
      requestBody: 7
components:
  parameters:
    A: {$ref: "#/components/parameters/B"}
    B: {$ref: "#/components/parameters/A"}
"""
    tools, report = build_tools(load_openapi(text), FakeHttpClient())
    messages = {i.where: i.message for i in report.items}
    assert "cycle" in messages["GET /loop"] and "external" in messages["GET /far"]
    assert "non-JSON" in messages["GET /ok"]
    assert [t.name for t in tools] == ["ok", "get_broken"]  # odd values are tolerated
    assert set(tools[0].parameters["properties"]) == {"n"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "does not parse"),
        ("- a\n- b", "must be a JSON or YAML object"),
        ('{"swagger": "2.0", "paths": {}}', "not swagger 2.0"),
        ('{"openapi": "3.0.0", "paths": []}', "'paths' must be an object"),
        ("a: [b", "does not parse"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
    ],
)
def test_bad_documents_are_invalid_input(text: str, match: str) -> None:
    with pytest.raises(OpenApiError, match=match) as info:
        load_openapi(text)
    assert isinstance(info.value, InvalidInputError) and info.value.code == "openapi_invalid"


def test_yaml_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(OpenApiError, match="nodes"):
        load_openapi("openapi: 3.0.0\n" + "\n".join(lines))


def tool(doc: dict[str, Any], name: str, client: FakeHttpClient, **kwargs: Any) -> OpenApiTool:
    tools, _ = build_tools(load_openapi(json.dumps(doc)), client, **kwargs)
    return next(t for t in tools if t.name == name)


async def test_run_builds_the_request() -> None:
    client = FakeHttpClient(FakeResponse(content=b'{"id": 7}'))
    get = tool(DOC, "getPet", client)
    result = await get.call(
        {"petId": 7, "fields": ["a", "b c"], "X-Trace": "t1", "petId_query": "q/1"}
    )
    assert result == {"id": 7}
    call = client.calls[0]
    parts = urlsplit(call["url"])
    assert (call["method"], parts.netloc, parts.path) == ("GET", "eu.pets.example", "/v1/pets/7")
    assert parse_qsl(parts.query) == [("fields", "a"), ("fields", "b c"), ("petId", "q/1")]
    assert call["headers"]["X-Trace"] == "t1" and call["content"] is None

    await tool(DOC, "add_pet", client).call({"body": {"name": "Rex", "tag": None}})
    post = client.calls[1]
    assert post["method"] == "POST" and post["url"] == "https://eu.pets.example/v1/pets"
    assert post["headers"]["Content-Type"] == "application/json"
    assert json.loads(post["content"]) == {"name": "Rex", "tag": None}


async def test_path_values_are_url_encoded_and_arguments_checked() -> None:
    doc = {
        "openapi": "3.1.0",
        "servers": [{"url": "https://api.example"}],
        "paths": {
            "/f/{name}": {
                "get": {
                    "operationId": "f",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "q",
                            "in": "query",
                            "style": "deepObject",
                            "schema": {"type": "object"},
                        },
                    ],
                }
            }
        },
    }
    client = FakeHttpClient()
    await tool(doc, "f", client).call({"name": "../a b?#", "q": {"x": 1, "y": True}})
    assert client.calls[0]["url"] == (
        "https://api.example/f/..%2Fa%20b%3F%23?q%5Bx%5D=1&q%5By%5D=true"
    )
    with pytest.raises(ToolArgumentsError, match="name"):
        await tool(doc, "f", client).call({"q": {}})
    with pytest.raises(ToolArgumentsError, match="Additional properties"):
        await tool(doc, "f", client).call({"name": "a", "zzz": 1})


@pytest.mark.parametrize(
    ("auth", "where"),
    [
        (ToolAuth(type="api_key_header", name="X-Api-Key"), ("header", "X-Api-Key", "s3cret")),
        (ToolAuth(type="bearer"), ("header", "Authorization", "Bearer s3cret")),
        (ToolAuth(type="api_key_query", name="key"), ("query", "key", "s3cret")),
    ],
)
async def test_auth_is_placed_as_configured(auth: ToolAuth, where: tuple[str, str, str]) -> None:
    client = FakeHttpClient()
    await tool(DOC, "add_pet", client, auth=auth, secret="s3cret").call({"body": {"name": "a"}})
    call = client.calls[0]
    kind, name, value = where
    if kind == "header":
        assert call["headers"][name] == value
        assert "s3cret" not in call["url"]
    else:
        assert (name, value) in parse_qsl(urlsplit(call["url"]).query)
        assert "s3cret" not in json.dumps(call["headers"])


def test_an_auth_without_a_secret_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="needs a secret"):
        tool(DOC, "add_pet", FakeHttpClient(), auth=ToolAuth(type="bearer"))
    with pytest.raises(ValueError, match="needs the name"):
        ToolAuth(type="api_key_query")


async def test_http_errors_are_typed_tool_errors_without_the_secret() -> None:
    client = FakeHttpClient(FakeResponse(401, {"content-type": "text/plain"}, b"bad key s3cret"))
    auth = ToolAuth(type="api_key_query", name="key")
    add = tool(DOC, "add_pet", client, auth=auth, secret="s3cret")
    with pytest.raises(ToolError) as info:
        await add.call({"body": {"name": "a"}})
    assert info.value.code == "tool_http_error"
    assert info.value.details["status"] == 401
    assert info.value.details["body"] == "bad key ***"

    client.fail = UpstreamError("cannot fetch https://eu.pets.example/v1/pets?key=s3cret")
    with pytest.raises(UpstreamError) as failed:
        await add.call({"body": {"name": "a"}})
    assert "s3cret" not in str(failed.value) and "key=***" in failed.value.message


async def test_text_answers_are_returned_as_text() -> None:
    client = FakeHttpClient(FakeResponse(200, {"content-type": "text/plain"}, b"plain"))
    assert await tool(DOC, "delete_pets_petId", client).call({"petId": 1}) == "plain"
    client.response = FakeResponse(200, {"content-type": "application/json"}, b"not json")
    assert await tool(DOC, "delete_pets_petId", client).call({"petId": 1}) == "not json"


def test_pinned_names_and_reserved_names() -> None:
    tools, _ = tools_of(DOC, reserved={"getPet"})
    assert "getPet" not in tools and {"getPet_2", "getPet_3"} <= set(tools)
    tools, _ = tools_of(DOC, names={"GET /pets/{petId}": "pinned"})
    assert list(tools) == ["pinned"]
