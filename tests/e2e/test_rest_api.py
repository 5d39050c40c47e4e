"""The REST API for apps and conversations, debug chat, SSE, and apps via the OpenAI API."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def sse_events(resp: httpx.Response) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line[5:]) for line in resp.text.splitlines() if line.startswith("data:")]


def test_app_lifecycle_and_versions(server: str) -> None:
    api = auth.client(base_url=server + "/api", timeout=60)
    created = api.post("/apps", json={"name": "Versioned", "opening_statement": "v1"})
    assert created.status_code == 201
    app_id = created.json()["id"]
    assert api.post(f"/apps/{app_id}/publish").json()["version"] == 1
    spec = created.json()["draft"] | {"opening_statement": "v2"}
    assert api.put(f"/apps/{app_id}", json=spec).json()["draft"]["opening_statement"] == "v2"
    # Conversations use the published version until the draft is published.
    started = api.post("/conversations", json={"app_id": app_id}).json()
    assert started["opening_statement"] == "v1"
    assert api.post(f"/apps/{app_id}/publish").json()["version"] == 2
    assert api.post("/conversations", json={"app_id": app_id}).json()["opening_statement"] == "v2"
    assert app_id in [a["id"] for a in api.get("/apps").json()["data"]]

    exported = api.get(f"/apps/{app_id}/export", params={"format": "yaml"})
    assert exported.status_code == 200 and "opening_statement: v2" in exported.text
    imported = api.post(
        "/apps/import", content=exported.text, headers={"content-type": "application/yaml"}
    )
    assert imported.status_code == 201 and imported.json()["draft"]["opening_statement"] == "v2"

    bad = api.post("/apps", json={"name": "x", "follow_ups": {"count": 9}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "follow_ups.count"
    other = api.get(f"/apps/{app_id}", headers=auth.other_workspace())
    assert other.status_code == 404
    assert api.delete(f"/apps/{app_id}").status_code == 204
    assert api.get(f"/apps/{app_id}").status_code == 404


def test_conversations_over_sse(server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    api = auth.client(base_url=server + "/api", timeout=120)
    app_id = create_app()
    conv = api.post("/conversations", json={"app_id": app_id}).json()["conversation_id"]
    resp = api.post(f"/conversations/{conv}/messages", json={"content": "Hello there"})
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = sse_events(resp)
    assert events[0]["type"] == "message_started" and events[-1]["type"] == "message_end"
    collected = api.post(
        f"/conversations/{conv}/messages", json={"content": "Again", "stream": False}
    )
    assert collected.json()["events"][-1]["status"] == "complete"
    assert len(api.get(f"/conversations/{conv}/messages").json()["data"]) == 4
    renamed = api.patch(f"/conversations/{conv}", json={"title": "Greetings"})
    assert renamed.json()["title"] == "Greetings"
    listed = api.get("/conversations", params={"app_id": app_id}).json()["data"]
    assert [c["title"] for c in listed] == ["Greetings"]
    assert api.delete(f"/conversations/{conv}").status_code == 204
    assert api.get(f"/conversations/{conv}/messages").status_code == 404
    assert api.get("/conversations", params={"app_id": app_id}).json()["data"] == []


def test_debug_chat_runs_the_unsaved_draft(server: str) -> None:
    api = auth.client(base_url=server + "/api", timeout=120)
    app_id = api.post("/apps", json={"name": "Draft", "model": {"max_tokens": 8}}).json()["id"]
    draft = {
        "name": "Draft",
        "system_prompt": "You are a pirate named {{who}}.",
        "variables": [{"name": "who", "default": "Redbeard"}],
        "model": {"max_tokens": 8, "temperature": 0},
        "opening_statement": "Arr!",
    }
    resp = api.post(f"/apps/{app_id}/debug-chat", json={"content": "Who are you?", "spec": draft})
    events = sse_events(resp)
    assert events[0]["type"] == "conversation_started" and events[0]["opening_statement"] == "Arr!"
    assert events[-1]["type"] == "message_end" and events[-1]["status"] == "complete"
    conv = events[0]["conversation_id"]
    prompts = api.get(f"/conversations/{conv}/prompts").json()["data"]
    assert prompts[0]["messages"][0]["content"].startswith("You are a pirate named Redbeard.")
    follow = api.post(
        f"/apps/{app_id}/debug-chat",
        json={"content": "Again?", "spec": draft, "conversation_id": conv, "stream": False},
    )
    assert follow.json()["events"][-1]["status"] == "complete"
    app = api.get(f"/apps/{app_id}").json()
    assert app["published_version"] is None and app["draft"]["opening_statement"] == ""
    unpublished = api.post("/conversations", json={"app_id": app_id})
    assert (
        unpublished.status_code == 400
        and unpublished.json()["error"]["code"] == "app_not_published"
    )


def test_app_through_the_openai_sdk(openai_client, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(
        system_prompt="You are the zoo assistant.",
        moderation={"input_keywords": ["poison"], "blocked_reply": "Not here."},
    )
    out = openai_client.chat.completions.create(
        model=f"app:{app_id}",
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Where are the lions?"},
        ],
    )
    assert out.id.startswith("conv_") and out.choices[0].message.content
    blocked = openai_client.chat.completions.create(
        model=f"app:{app_id}", messages=[{"role": "user", "content": "Which POISON works?"}]
    )
    assert blocked.choices[0].message.content == "Not here."
    pieces = [
        c.choices[0].delta.content or ""
        for c in openai_client.chat.completions.create(
            model=f"app:{app_id}", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        if c.choices
    ]
    assert len([p for p in pieces if p]) >= 2
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(
            model="app:app_missing", messages=[{"role": "user", "content": "x"}]
        )
