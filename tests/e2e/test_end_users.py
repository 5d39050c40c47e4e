"""A published app's end users on `chorus serve`: public and private apps, anonymous end
users stable per browser, signed-in end users across devices, and every end user (and
workspace member) held to their own conversations."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e import auth
from tests.e2e.wsclient import recv, send, start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "end-user-password-1"


def _session(server: str, app_id: str, browser: httpx.Client, **kw: Any) -> httpx.Response:
    return browser.post(f"{server}/api/chat/{app_id}/session", **kw)


def _as(token: str) -> dict[str, str]:
    return auth.bearer(token)


async def test_public_and_private_apps_and_their_end_users(server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(model={"model": "scripted", "max_tokens": 8})
    other_app = create_app(model={"model": "scripted", "max_tokens": 8})
    browser_a, browser_b = httpx.Client(timeout=60), httpx.Client(timeout=60)

    # private (the default): a link alone is not enough; a member may
    private = _session(server, app_id, browser_a)
    assert private.status_code == 401
    owner = _session(server, app_id, httpx.Client(timeout=60), headers=auth.operator())
    assert owner.status_code == 200 and owner.json()["signed_in"] is True
    owner_id = owner.json()["end_user_id"]
    phone = _session(server, app_id, httpx.Client(timeout=60), headers=auth.operator())
    assert phone.json()["end_user_id"] == owner_id  # the same person on another device

    made_public = auth.client(timeout=60).put(
        f"{server}/api/apps/{app_id}/access", json={"access": "public"}
    )
    assert made_public.status_code == 200 and made_public.json()["access"] == "public"
    a1 = _session(server, app_id, browser_a)
    assert a1.status_code == 200, a1.text
    assert "chorus_end_user" in a1.headers["set-cookie"] and "HttpOnly" in a1.headers["set-cookie"]
    a2 = _session(server, app_id, browser_a)
    assert a2.json()["end_user_id"] == a1.json()["end_user_id"]  # stable per browser
    b = _session(server, app_id, browser_b).json()
    assert b["end_user_id"] != a1.json()["end_user_id"]
    a = a2.json()["token"]

    # A's conversation is A's alone
    started = browser_a.post(f"{server}/api/conversations", json={"app_id": app_id}, headers=_as(a))
    assert started.status_code == 201, started.text
    conv = started.json()["conversation_id"]
    sent = browser_a.post(
        f"{server}/api/conversations/{conv}/messages",
        json={"content": "hello", "stream": False},
        headers=_as(a),
    )
    assert sent.status_code == 200, sent.text
    mine = browser_a.get(f"{server}/api/conversations", headers=_as(a)).json()["data"]
    assert [c["id"] for c in mine] == [conv]
    assert mine[0]["user_id"] == a1.json()["end_user_id"]
    theirs = browser_b.get(f"{server}/api/conversations", headers=_as(b["token"])).json()
    assert theirs["data"] == []
    for method, path in (
        ("GET", f"/api/conversations/{conv}/messages"),
        ("PATCH", f"/api/conversations/{conv}"),
        ("DELETE", f"/api/conversations/{conv}"),
    ):
        body = {"title": "mine now"} if method == "PATCH" else None
        peek = browser_b.request(method, server + path, json=body, headers=_as(b["token"]))
        assert peek.status_code == 404, (method, path, peek.text)

    # an end user reaches its app's chat only
    assert browser_a.get(f"{server}/api/apps", headers=_as(a)).status_code == 403
    assert (
        browser_a.get(f"{server}/api/conversations/{conv}/prompts", headers=_as(a)).status_code
        == 403
    )
    elsewhere = browser_a.post(
        f"{server}/api/conversations", json={"app_id": other_app}, headers=_as(a)
    )
    assert elsewhere.status_code == 404
    raw = browser_a.post(
        f"{server}/v1/chat/completions",
        json={"model": "scripted", "messages": [{"role": "user", "content": "hi"}]},
        headers=_as(a),
    )
    assert raw.status_code == 403

    ws_url = server.replace("http://", "ws://") + "/ws/chat"
    async with connect(ws_url, additional_headers=_as(b["token"])) as ws:
        await send(ws, type="resume", conversation_id=conv)
        assert (await recv(ws))["code"] == "conversation_not_found"
        await send(ws, type="start", app_id=app_id, draft={"name": "x", "system_prompt": "y"})
        assert (await recv(ws))["code"] == "forbidden"
        own = await start(ws, app_id)
        assert own["app_id"] == app_id

    # made private again: the anonymous end users are out, whatever their token says
    auth.client(timeout=60).put(f"{server}/api/apps/{app_id}/access", json={"access": "private"})
    closed = browser_a.post(f"{server}/api/conversations", json={"app_id": app_id}, headers=_as(a))
    assert closed.status_code == 404 and closed.json()["error"]["code"] == "app_not_found"
    assert _session(server, app_id, browser_a).status_code == 401


def test_a_member_reads_their_own_conversations_only(server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(model={"model": "scripted", "max_tokens": 8})
    email = f"member-{secrets.token_hex(4)}@end-users.test"
    made = httpx.post(
        server + "/api/admin/users",
        json={"email": email, "password": PASSWORD},
        headers=auth.operator(),
    )
    assert made.status_code == 201, made.text
    added = auth.post(server + "/api/members", json={"email": email, "role": "member"})
    assert added.status_code == 201, added.text
    login = httpx.post(server + "/api/auth/login", json={"email": email, "password": PASSWORD})
    member = _as(login.json()["access_token"])

    owners = auth.post(server + "/api/conversations", json={"app_id": app_id})
    theirs = owners.json()["conversation_id"]
    started = httpx.post(server + "/api/conversations", json={"app_id": app_id}, headers=member)
    assert started.status_code == 201, started.text
    mine = started.json()["conversation_id"]
    listed = httpx.get(server + "/api/conversations", headers=member).json()["data"]
    assert [c["id"] for c in listed] == [mine]
    peek = httpx.get(f"{server}/api/conversations/{theirs}/messages", headers=member)
    assert peek.status_code == 404
    everyone = auth.get(server + f"/api/conversations?app_id={app_id}").json()["data"]
    assert {theirs, mine} <= {c["id"] for c in everyone}  # an owner reads every log
