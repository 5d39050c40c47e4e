"""Tools end to end on `chorus serve`: the tool list with schemas, an OpenAPI import by
URL (the tests' own API, through the SSRF allowlist) with a bearer token that is never
returned, and apps whose model calls a tool and a workflow skill over the websocket —
checked on the event stream, not on the tiny model's wording."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e import auth
from tests.e2e.wsclient import start, turn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def api(server: str) -> httpx.Client:
    return auth.client(base_url=server + "/api", timeout=120)


def test_tools_are_listed_and_openapi_imports(api: httpx.Client, local_site: str) -> None:
    listed = {t["name"]: t for t in api.get("/tools").json()["data"]}
    assert {"calculator", "current_time", "http_request", "read_webpage", "run_code"} <= set(listed)
    assert listed["calculator"]["parameters"]["required"] == ["expression"]

    created = api.post(
        "/tools/openapi",
        json={"name": "zoo", "url": local_site + "/openapi.json",
              "auth": {"type": "bearer", "name": "Authorization"}, "secret": "s3cret-token"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert "s3cret-token" not in created.text
    assert {t["name"] for t in body["report"]["tools"]} == {"zoo_weather", "zoo_echo"}
    names = {t["name"] for t in api.get("/tools").json()["data"]}
    assert {"zoo_weather", "zoo_echo"} <= names
    other = {t["name"] for t in api.get("/tools", headers=auth.other_workspace()).json()["data"]}
    assert "zoo_weather" not in other
    providers = api.get("/tools/providers").text
    assert "s3cret-token" not in providers

    refused = api.post("/tools/openapi", json={"name": "meta", "url": "http://169.254.169.254/x"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "url_blocked"


def tool_events(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        [e for e in events if e["type"] == "tool_call"],
        [e for e in events if e["type"] == "tool_result"],
    )


async def test_an_app_calls_a_tool_and_streams_the_events(ws_url: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        tools=["calculator", "current_time"],
        planner={"max_steps": 2, "first_tool_choice": "calculator"},
        model={"max_tokens": 160, "temperature": 0},
    )
    async with auth.connect(ws_url) as ws:
        await start(ws, app)
        events = await turn(ws, "What is 12 times 7?", timeout=240)
    calls, results = tool_events(events)
    assert calls and calls[0]["name"] == "calculator" and calls[0]["step"] == 1
    assert isinstance(calls[0]["arguments"], dict) and "expression" in calls[0]["arguments"]
    assert results[0]["call_id"] == calls[0]["call_id"]
    assert results[0]["ok"] or results[0]["error"]["code"] == "tool_arguments_invalid"
    kinds = [e["type"] for e in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < len(kinds) - 1
    assert events[-1]["type"] == "message_end" and events[-1]["status"] == "complete"


async def test_a_workflow_is_a_skill_of_an_app(api: httpx.Client, ws_url: str, create_app) -> None:  # type: ignore[no-untyped-def]
    workflow = {
        "name": "shout",
        "description": "Shouts a word back in capitals.",
        "nodes": [
            {"id": "start", "type": "start",
             "data": {"variables": [{"variable": "word", "type": "string", "max_length": 40}]}},
            {"id": "t", "type": "template-transform", "data": {"template": "{{ w | upper }}!",
             "variables": [{"variable": "w", "value_selector": ["start", "word"]}]}},
            {"id": "end", "type": "end",
             "data": {"outputs": [{"variable": "shout", "value_selector": ["t", "output"]}]}},
        ],
        "edges": [{"source": "start", "target": "t"}, {"source": "t", "target": "end"}],
    }  # fmt: skip
    wf = api.post("/workflows", json=workflow).json()["id"]
    app = create_app(
        workflows=[wf],
        planner={"max_steps": 2, "first_tool_choice": "required"},
        model={"max_tokens": 120, "temperature": 0},
    )
    async with auth.connect(ws_url) as ws:
        await start(ws, app)
        events = await turn(ws, "Shout the word hello.", timeout=240)
    calls, results = tool_events(events)
    assert calls and calls[0]["name"].startswith("wf_shout_")
    assert results[0]["ok"], results[0]
    word = calls[0]["arguments"]["word"]
    assert results[0]["result"] == {"shout": word.upper() + "!"}
    runs = [r for r in events if r["type"] == "tool_result"]
    assert runs and events[-1]["status"] == "complete"
