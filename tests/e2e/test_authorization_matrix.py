"""The authorization matrix: every route of the gateway's own route table, called by
every kind of caller, on `chorus serve`.

The routes come from :func:`channels.routes.route_table` (the app's own table): a route
without a declared policy fails, and so does a route this file has no recipe for, so a
new route cannot land without its row. Each caller acts in its own workspace; a route
with an id in its path is called with an object of the caller's workspace and with one
of the other workspace. Allowed callers send valid bodies and must get a 2xx; refused
callers send an empty body, so a route that validated before authorizing would answer
400 instead of 401/403 and fail. The expected answers are this file's own table of who
may do what, not the server's policy code.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from agents.accounts.secrets import AccessTokenSigner
from agents.ids import utcnow
from channels.gateway import app as gateway_app
from channels.routes import route_table
from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "matrix-password-1"
MODEL = "scripted"
WORKFLOW = {
    "name": "echo",
    "nodes": [
        {"id": "start", "type": "start",
         "data": {"variables": [{"variable": "x", "type": "string"}]}},
        {"id": "end", "type": "end",
         "data": {"outputs": [{"variable": "x", "value_selector": ["start", "x"]}]}},
    ],
    "edges": [{"source": "start", "target": "end"}],
}  # fmt: skip
CREW = {
    "name": "one step",
    "max_tokens": 16,
    "agents": [{"id": "a", "role": "Noter", "goal": "Note", "backstory": "Brief.", "max_iter": 1}],
    "tasks": [{"id": "t", "description": "Say hi.", "expected_output": "Hi.", "agent": "a"}],
}

# -- who may do what (this file's own table) --------------------------------------------

ROLES = ("owner", "admin", "editor", "member")
#: policy -> the roles of a workspace's users it admits
ROLE_ALLOWS = {
    "read": set(ROLES),
    "use": set(ROLES),
    "chat": set(ROLES),
    "write": {"owner", "admin", "editor"},
    "admin": {"owner", "admin"},
}
#: policy -> the workspace-key scopes that admit a key (any of them)
SCOPE_ALLOWS = {
    "read": {"read", "write", "admin"},
    "use": {"read", "write", "admin"},
    "chat": {"read", "write", "admin"},
    "write": {"write", "admin"},
    "admin": {"admin"},
}
#: settings-dependent policies, as the test server is configured
RESOLVED = {"docs_policy": "public", "metrics_policy": "operator"}


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    workspace: str | None = None  # "A", "B" or None
    role: str | None = None
    scopes: set[str] = field(default_factory=set)
    kind: str = "user"  # user, key, app_key, end_user, anonymous, bad, operator
    app: str | None = None  # an app key's or end user's app: "A1" or "A2"
    token: str = ""


def expected(policy: str, caller: Caller, cross: bool) -> str:
    """'2xx', '401', '403' or '404'."""
    policy = RESOLVED.get(policy, policy)
    if policy == "public":
        return "2xx"
    if policy == "anyone":  # open, but a credential sent must be valid
        return "401" if caller.kind == "bad" else "2xx"
    if caller.kind in ("anonymous", "bad"):
        return "401"
    if policy == "signed_in":
        allowed = caller.kind in ("user", "operator")
    elif policy == "operator":
        allowed = caller.kind == "operator"
    elif caller.kind == "user":
        allowed = caller.role in ROLE_ALLOWS[policy]
    elif caller.kind == "key":
        allowed = bool(caller.scopes & SCOPE_ALLOWS[policy])
    elif caller.kind == "app_key":
        allowed = policy in ("use", "chat")
    elif caller.kind == "end_user":
        allowed = policy == "chat"
    else:
        allowed = False
    if not allowed:
        return "403"
    return "404" if cross else "2xx"


# -- the two workspaces and their objects -----------------------------------------------


class Workspace:
    """A workspace of the matrix, its owner's client, and objects made on demand."""

    def __init__(self, name: str, base: str, owner_token: str) -> None:
        self.name = name
        self.base = base
        self.http = httpx.Client(base_url=base, headers=auth.bearer(owner_token), timeout=120)
        self._cache: dict[str, str] = {}
        self.spare_users: list[str] = []

    def ok(self, resp: httpx.Response) -> Any:
        assert resp.status_code < 300, f"{self.name} set-up: {resp.status_code} {resp.text[:300]}"
        return resp.json() if resp.content else None

    def shared(self, what: str) -> str:
        if what not in self._cache:
            self._cache[what] = getattr(self, "new_" + what)()
        return self._cache[what]

    # objects (each new_* makes a fresh one)
    def new_app(self) -> str:
        made = self.ok(self.http.post("/api/apps", json={"name": "m", "model": {"model": MODEL}}))
        self.ok(self.http.post(f"/api/apps/{made['id']}/publish"))
        return str(made["id"])

    def conversation_of(self, caller: Caller, fresh: bool) -> str:
        """A conversation the caller started (an end user or member sees its own only)."""
        key = f"conversation:{caller.name}"
        if not fresh and key in self._cache:
            return self._cache[key]
        resp = httpx.post(
            self.base + "/api/conversations",
            json={"app_id": self.shared("app")},
            headers=caller.headers,
            timeout=120,
        )
        made = str(self.ok(resp)["conversation_id"])
        if not fresh:  # a fresh one is for a delete: never the shared one
            self._cache[key] = made
        return made

    def new_conversation(self) -> str:
        started = self.ok(self.http.post("/api/conversations", json={"app_id": self.shared("app")}))
        return str(started["conversation_id"])

    def new_kb(self) -> str:
        return str(self.ok(self.http.post("/api/knowledge-bases", json={"name": "kb"}))["id"])

    def new_doc(self) -> str:
        kb = self.shared("kb")
        text = f"Matrix notes {secrets.token_hex(4)}: pandas eat bamboo."  # not a duplicate
        files = {"file": (f"note-{secrets.token_hex(4)}.txt", io.BytesIO(text.encode()))}
        doc = self.ok(self.http.post(f"/api/knowledge-bases/{kb}/documents", files=files))
        return str(doc["id"])

    def new_workflow(self) -> str:
        return str(self.ok(self.http.post("/api/workflows", json=WORKFLOW))["id"])

    def new_workflow_run(self) -> str:
        wf = self.shared("workflow")
        run = self.ok(self.http.post(f"/api/workflows/{wf}/run", json={"inputs": {"x": "1"}}))
        return str(run["run_id"])

    def new_crew(self) -> str:
        return str(self.ok(self.http.post("/api/crews", json=CREW))["id"])

    def new_crew_run(self) -> str:
        crew = self.shared("crew")
        run = self.ok(self.http.post(f"/api/crews/{crew}/run", json={}))
        return str(run["run_id"])

    def new_provider(self) -> str:
        site = self._cache["site"]
        body = {"name": "p" + secrets.token_hex(3), "url": site + "/openapi.json"}
        return str(self.ok(self.http.post("/api/tools/openapi", json=body))["provider"]["id"])

    def new_key(self) -> str:
        made = self.ok(self.http.post("/api/keys", json={"name": "k", "scopes": ["read"]}))
        return str(made["key"]["id"])

    def new_member(self) -> str:
        email = f"spare-{secrets.token_hex(4)}@{self.name.lower()}.test"
        operator = self._cache["operator"]
        user = self.ok(
            self.http.post(
                "/api/admin/users",
                json={"email": email, "password": PASSWORD},
                headers=auth.bearer(operator),
            )
        )
        self.ok(self.http.post("/api/members", json={"email": email, "role": "member"}))
        return str(user["id"])

    def _invite(self) -> Any:
        email = f"invited-{secrets.token_hex(4)}@{self.name.lower()}.test"
        return self.ok(self.http.post("/api/invitations", json={"email": email, "role": "member"}))

    def new_invitation(self) -> str:
        return str(self._invite()["invitation"]["id"])

    def new_invitation_token(self) -> str:
        return str(self._invite()["token"])

    def new_spare_email(self) -> str:
        email = f"spare-{secrets.token_hex(4)}@{self.name.lower()}.test"
        self.ok(
            self.http.post(
                "/api/admin/users",
                json={"email": email, "password": PASSWORD},
                headers=auth.bearer(self._cache["operator"]),
            )
        )
        return email


# -- recipes: how to call each route (own objects, valid body) --------------------------


@dataclass
class Call:
    path: str
    json: Any = None
    files: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Recipe = Callable[[Workspace, Caller, bool], Call]


def _conv(ws: Workspace, caller: Caller, fresh: bool) -> str:
    if ws.name == caller.workspace and (caller.kind == "end_user" or caller.role == "member"):
        return ws.conversation_of(caller, fresh)
    return ws.new_conversation() if fresh else ws.shared("conversation")


def _login_session(ws: Workspace) -> str:
    resp = ws.http.post(
        "/api/auth/login", json={"email": ws._cache["login_email"], "password": PASSWORD}
    )
    return str(ws.ok(resp)["refresh_token"])


RECIPES: dict[tuple[str, str], Recipe] = {
    ("GET", "/healthz"): lambda ws, c, f: Call("/healthz"),
    ("GET", "/metrics"): lambda ws, c, f: Call("/metrics"),
    ("GET", "/docs"): lambda ws, c, f: Call("/docs"),
    ("GET", "/openapi.json"): lambda ws, c, f: Call("/openapi.json"),
    ("GET", "/v1/models"): lambda ws, c, f: Call("/v1/models"),
    ("POST", "/v1/chat/completions"): lambda ws, c, f: Call(
        "/v1/chat/completions",
        json={
            "model": f"app:{ws.shared('app')}" if c.kind in ("app_key", "end_user") else MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 4,
        },
    ),
    ("POST", "/v1/embeddings"): lambda ws, c, f: Call(
        "/v1/embeddings", json={"model": "multilingual-e5-small", "input": "hi"}
    ),
    ("WS", "/ws/chat"): lambda ws, c, f: Call("/ws/chat"),
    # accounts
    ("POST", "/api/auth/login"): lambda ws, c, f: Call(
        "/api/auth/login", json={"email": ws._cache["login_email"], "password": PASSWORD}
    ),
    ("POST", "/api/auth/refresh"): lambda ws, c, f: Call(
        "/api/auth/refresh", json={"refresh_token": _login_session(ws)}
    ),
    ("POST", "/api/auth/logout"): lambda ws, c, f: Call(
        "/api/auth/logout", json={"refresh_token": _login_session(ws)}
    ),
    ("GET", "/api/auth/me"): lambda ws, c, f: Call("/api/auth/me"),
    ("POST", "/api/auth/password"): lambda ws, c, f: Call(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD},
    ),
    ("GET", "/api/workspaces"): lambda ws, c, f: Call("/api/workspaces"),
    ("GET", "/api/members"): lambda ws, c, f: Call("/api/members"),
    ("POST", "/api/members"): lambda ws, c, f: Call(
        "/api/members", json={"email": ws.new_spare_email() if f else "x@y.z", "role": "member"}
    ),
    ("PATCH", "/api/members/{user_id}"): lambda ws, c, f: Call(
        f"/api/members/{ws.new_member() if f else ws.shared('member')}", json={"role": "editor"}
    ),
    ("DELETE", "/api/members/{user_id}"): lambda ws, c, f: Call(
        f"/api/members/{ws.new_member() if f else ws.shared('member')}"
    ),
    ("GET", "/api/keys"): lambda ws, c, f: Call("/api/keys"),
    ("POST", "/api/keys"): lambda ws, c, f: Call(
        "/api/keys", json={"name": "x", "scopes": ["read"]}
    ),
    ("DELETE", "/api/keys/{key_id}"): lambda ws, c, f: Call(
        f"/api/keys/{ws.new_key() if f else ws.shared('key')}"
    ),
    ("GET", "/api/invitations"): lambda ws, c, f: Call("/api/invitations"),
    ("POST", "/api/invitations"): lambda ws, c, f: Call(
        "/api/invitations", json={"email": f"i-{secrets.token_hex(4)}@m.test", "role": "member"}
    ),
    ("DELETE", "/api/invitations/{invitation_id}"): lambda ws, c, f: Call(
        f"/api/invitations/{ws.new_invitation() if f else ws.shared('invitation')}"
    ),
    ("POST", "/api/invitations/accept"): lambda ws, c, f: Call(  # makes the invited account
        "/api/invitations/accept", json={"token": ws.new_invitation_token(), "password": PASSWORD}
    ),
    ("GET", "/api/audit"): lambda ws, c, f: Call("/api/audit"),
    ("GET", "/api/admin/audit"): lambda ws, c, f: Call("/api/admin/audit"),
    ("GET", "/api/admin/users"): lambda ws, c, f: Call("/api/admin/users"),
    ("POST", "/api/admin/users"): lambda ws, c, f: Call(
        "/api/admin/users",
        json={"email": f"made-{secrets.token_hex(4)}@matrix.test", "password": PASSWORD},
    ),
    ("POST", "/api/admin/workspaces"): lambda ws, c, f: Call(  # the operator stays outside
        "/api/admin/workspaces",
        json={"name": "made by the matrix", "owner_email": ws._cache["login_email"]},
    ),
    # apps
    ("POST", "/api/apps"): lambda ws, c, f: Call(
        "/api/apps", json={"name": "n", "model": {"model": MODEL}}
    ),
    ("GET", "/api/apps"): lambda ws, c, f: Call("/api/apps"),
    ("POST", "/api/apps/import"): lambda ws, c, f: Call(
        "/api/apps/import",
        content=json.dumps({"name": "imported", "model": {"model": MODEL}}).encode(),
        headers={"content-type": "application/json"},
    ),
    ("GET", "/api/apps/{app_id}"): lambda ws, c, f: Call(f"/api/apps/{ws.shared('app')}"),
    ("PUT", "/api/apps/{app_id}"): lambda ws, c, f: Call(
        f"/api/apps/{ws.shared('app')}", json={"name": "m", "model": {"model": MODEL}}
    ),
    ("DELETE", "/api/apps/{app_id}"): lambda ws, c, f: Call(
        f"/api/apps/{ws.new_app() if f else ws.shared('app')}"
    ),
    ("POST", "/api/apps/{app_id}/publish"): lambda ws, c, f: Call(
        f"/api/apps/{ws.shared('app')}/publish"
    ),
    ("GET", "/api/apps/{app_id}/export"): lambda ws, c, f: Call(
        f"/api/apps/{ws.shared('app')}/export"
    ),
    ("POST", "/api/apps/{app_id}/debug-chat"): lambda ws, c, f: Call(
        f"/api/apps/{ws.shared('app')}/debug-chat", json={"content": "hi", "stream": False}
    ),
    # end users
    ("PUT", "/api/apps/{app_id}/access"): lambda ws, c, f: Call(
        f"/api/apps/{ws.shared('app')}/access", json={"access": "public"}
    ),
    ("PUT", "/api/apps/{app_id}/limits"): lambda ws, c, f: Call(  # none: the matrix runs on
        f"/api/apps/{ws.shared('app')}/limits", json={"limits": None, "end_user_limits": None}
    ),
    ("POST", "/api/chat/{app_id}/session"): lambda ws, c, f: Call(
        f"/api/chat/{ws.shared('app')}/session"
    ),
    # conversations
    ("POST", "/api/conversations"): lambda ws, c, f: Call(
        "/api/conversations", json={"app_id": ws.shared("app")}
    ),
    ("GET", "/api/conversations"): lambda ws, c, f: Call("/api/conversations"),
    ("GET", "/api/conversations/{conversation_id}/messages"): lambda ws, c, f: Call(
        f"/api/conversations/{_conv(ws, c, False)}/messages"
    ),
    ("POST", "/api/conversations/{conversation_id}/messages"): lambda ws, c, f: Call(
        f"/api/conversations/{_conv(ws, c, f)}/messages", json={"content": "hi", "stream": False}
    ),
    ("GET", "/api/conversations/{conversation_id}/prompts"): lambda ws, c, f: Call(
        f"/api/conversations/{_conv(ws, c, False)}/prompts"
    ),
    ("PATCH", "/api/conversations/{conversation_id}"): lambda ws, c, f: Call(
        f"/api/conversations/{_conv(ws, c, False)}", json={"title": "renamed"}
    ),
    ("DELETE", "/api/conversations/{conversation_id}"): lambda ws, c, f: Call(
        f"/api/conversations/{_conv(ws, c, f)}"
    ),
    ("POST", "/api/conversations/{conversation_id}/stop"): lambda ws, c, f: Call(
        f"/api/conversations/{_conv(ws, c, False)}/stop"
    ),
    # knowledge
    ("POST", "/api/knowledge-bases"): lambda ws, c, f: Call(
        "/api/knowledge-bases", json={"name": "k"}
    ),
    ("GET", "/api/knowledge-bases"): lambda ws, c, f: Call("/api/knowledge-bases"),
    ("GET", "/api/knowledge-bases/{kb_id}"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}"
    ),
    ("DELETE", "/api/knowledge-bases/{kb_id}"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.new_kb() if f else ws.shared('kb')}"
    ),
    ("POST", "/api/knowledge-bases/{kb_id}/documents"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/documents",
        files={
            "file": (
                f"more-{secrets.token_hex(4)}.txt",
                io.BytesIO(f"More notes {secrets.token_hex(4)}.".encode()),
            )
        },
    ),
    ("GET", "/api/knowledge-bases/{kb_id}/documents"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/documents"
    ),
    ("POST", "/api/knowledge-bases/{kb_id}/urls"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/urls", json={"url": ws._cache["site"] + "/hours"}
    ),
    ("GET", "/api/knowledge-bases/{kb_id}/documents/{doc_id}"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/documents/{ws.shared('doc')}"
    ),
    ("DELETE", "/api/knowledge-bases/{kb_id}/documents/{doc_id}"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/documents/"
        f"{ws.new_doc() if f else ws.shared('doc')}"
    ),
    ("GET", "/api/knowledge-bases/{kb_id}/documents/{doc_id}/events"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/documents/{ws.shared('doc')}/events"
    ),
    ("POST", "/api/knowledge-bases/{kb_id}/documents/{doc_id}/reindex"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/documents/{ws.shared('doc')}/reindex"
    ),
    ("POST", "/api/knowledge-bases/{kb_id}/query"): lambda ws, c, f: Call(
        f"/api/knowledge-bases/{ws.shared('kb')}/query", json={"query": "pandas"}
    ),
    # workflows
    ("POST", "/api/workflows"): lambda ws, c, f: Call("/api/workflows", json=WORKFLOW),
    ("GET", "/api/workflows"): lambda ws, c, f: Call("/api/workflows"),
    ("POST", "/api/workflows/validate"): lambda ws, c, f: Call(
        "/api/workflows/validate", json=WORKFLOW
    ),
    ("POST", "/api/workflows/import"): lambda ws, c, f: Call(
        "/api/workflows/import", json={"dsl": ws._cache["dsl"], "save": False}
    ),
    ("GET", "/api/workflows/runs/{run_id}"): lambda ws, c, f: Call(
        f"/api/workflows/runs/{ws.shared('workflow_run')}"
    ),
    ("GET", "/api/workflows/{workflow_id}"): lambda ws, c, f: Call(
        f"/api/workflows/{ws.shared('workflow')}"
    ),
    ("PUT", "/api/workflows/{workflow_id}"): lambda ws, c, f: Call(
        f"/api/workflows/{ws.shared('workflow')}", json=WORKFLOW
    ),
    ("DELETE", "/api/workflows/{workflow_id}"): lambda ws, c, f: Call(
        f"/api/workflows/{ws.new_workflow() if f else ws.shared('workflow')}"
    ),
    ("GET", "/api/workflows/{workflow_id}/export"): lambda ws, c, f: Call(
        f"/api/workflows/{ws.shared('workflow')}/export"
    ),
    ("POST", "/api/workflows/{workflow_id}/run"): lambda ws, c, f: Call(
        f"/api/workflows/{ws.shared('workflow')}/run", json={"inputs": {"x": "2"}}
    ),
    # tools
    ("GET", "/api/tools"): lambda ws, c, f: Call("/api/tools"),
    ("POST", "/api/tools/openapi"): lambda ws, c, f: Call(
        "/api/tools/openapi",
        json={"name": "t" + secrets.token_hex(3), "url": ws._cache["site"] + "/openapi.json"},
    ),
    ("GET", "/api/tools/providers"): lambda ws, c, f: Call("/api/tools/providers"),
    ("DELETE", "/api/tools/providers/{provider_id}"): lambda ws, c, f: Call(
        f"/api/tools/providers/{ws.new_provider() if f else ws.shared('provider')}"
    ),
    # crews
    ("POST", "/api/crews"): lambda ws, c, f: Call("/api/crews", json=CREW),
    ("POST", "/api/crews/validate"): lambda ws, c, f: Call("/api/crews/validate", json=CREW),
    ("GET", "/api/crews"): lambda ws, c, f: Call("/api/crews"),
    ("GET", "/api/crews/runs/{run_id}"): lambda ws, c, f: Call(
        f"/api/crews/runs/{ws.shared('crew_run')}"
    ),
    ("GET", "/api/crews/{crew_id}"): lambda ws, c, f: Call(f"/api/crews/{ws.shared('crew')}"),
    ("DELETE", "/api/crews/{crew_id}"): lambda ws, c, f: Call(
        f"/api/crews/{ws.new_crew() if f else ws.shared('crew')}"
    ),
    ("POST", "/api/crews/{crew_id}/run"): lambda ws, c, f: Call(
        f"/api/crews/{ws.shared('crew')}/run", json={}
    ),
}
#: Routes whose answer for another workspace's object is a 2xx by design: a public
#: app's end-user session is open to anyone (private apps: tests/e2e/test_end_users.py).
OPEN_ACROSS = {("POST", "/api/chat/{app_id}/session")}
#: Routes an app key of *another* app of the workspace reaches only through the app it
#: names (the matrix's objects belong to the workspace's first app): not found to it.
APP_BOUND = {
    ("POST", "/v1/chat/completions"),
    ("POST", "/api/conversations"),
    *[key for key in RECIPES if "{conversation_id}" in key[1]],
}


# -- the run ----------------------------------------------------------------------------


def _login(base: str, email: str) -> str:
    resp = httpx.post(base + "/api/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def _setup(base: str, data_dir: Path, site: str) -> tuple[list[Caller], dict[str, Workspace]]:
    op = auth.operator()
    made_operator = httpx.post(
        base + "/api/admin/users",
        json={"email": "operator@matrix.test", "password": PASSWORD, "operator": True},
        headers=op,
    )
    assert made_operator.status_code == 201, made_operator.text
    operator_token = _login(base, "operator@matrix.test")
    callers: list[Caller] = [
        Caller("anonymous", {}, kind="anonymous"),
        Caller("operator", auth.bearer(operator_token), kind="operator"),
    ]
    spaces: dict[str, Workspace] = {}
    for name in ("A", "B"):
        users = {}
        for role in ROLES:
            email = f"{role}@{name.lower()}.matrix.test"
            resp = httpx.post(
                base + "/api/admin/users", json={"email": email, "password": PASSWORD}, headers=op
            )
            assert resp.status_code == 201, resp.text
            users[role] = email
        made = httpx.post(
            base + "/api/admin/workspaces",
            json={"name": f"matrix {name}", "owner_email": users["owner"]},
            headers=op,
        )
        assert made.status_code == 201, made.text
        owner_token = _login(base, users["owner"])
        ws = Workspace(name, base, owner_token)
        ws._cache.update(site=site, operator=operator_token, login_email=users["member"])
        for role in ROLES[1:]:
            ws.ok(ws.http.post("/api/members", json={"email": users[role], "role": role}))
        for role in ROLES:
            token = owner_token if role == "owner" else _login(base, users[role])
            callers.append(Caller(f"{name}:{role}", auth.bearer(token), name, role, token=token))
        spaces[name] = ws
    a = spaces["A"]
    wf = a.shared("workflow")
    a._cache["dsl"] = a.http.get(f"/api/workflows/{wf}/export").text
    spaces["B"]._cache["dsl"] = a._cache["dsl"]

    def key(body: dict[str, Any]) -> str:
        return str(a.ok(a.http.post("/api/keys", json=body))["secret"])

    a2 = a.new_app()
    for space in spaces.values():  # public: anyone with the link chats as an end user
        space.ok(
            space.http.put(f"/api/apps/{space.shared('app')}/access", json={"access": "public"})
        )
    end_user = httpx.post(f"{base}/api/chat/{a.shared('app')}/session", timeout=60)
    end_user_token = str(a.ok(end_user)["token"])
    revoked = a.ok(a.http.post("/api/keys", json={"name": "gone", "scopes": ["admin"]}))
    a.ok(a.http.delete(f"/api/keys/{revoked['key']['id']}"))
    member = next(c for c in callers if c.name == "A:member")
    signer = AccessTokenSigner((data_dir / "auth.key").read_bytes().strip())
    claims = signer.check(member.token)
    expired = signer.sign(
        claims.user_id, claims.session_id, utcnow() - timedelta(hours=2), timedelta(minutes=15)
    )
    callers += [
        Caller("A:read-key", auth.bearer(key({"name": "r", "scopes": ["read"]})), "A",
               scopes={"read"}, kind="key"),
        Caller("A:admin-key", auth.bearer(key({"name": "a", "scopes": ["admin", "read", "write"]})),
               "A", scopes={"admin", "read", "write"}, kind="key"),
        Caller("A:app-key", auth.bearer(key({"name": "p", "app_id": a.shared("app")})), "A",
               kind="app_key", app="A1"),
        Caller("A:other-app-key", auth.bearer(key({"name": "q", "app_id": a2})), "A",
               kind="app_key", app="A2"),
        Caller("A:end-user", auth.bearer(end_user_token), "A", kind="end_user", app="A1"),
        Caller("revoked-key", auth.bearer(revoked["secret"]), kind="bad"),
        Caller("expired-token", auth.bearer(expired), kind="bad"),
    ]  # fmt: skip
    return callers, spaces


def _status(base: str, method: str, call: Call, caller: Caller) -> int:
    if method == "WS":
        url = base.replace("http://", "ws://") + call.path

        async def handshake() -> int:
            try:
                async with connect(url, additional_headers=caller.headers, open_timeout=60):
                    return 200
            except InvalidStatus as exc:
                return exc.response.status_code

        return asyncio.run(handshake())
    resp = httpx.request(
        method,
        base + call.path,
        json=call.json,
        files=call.files,
        content=call.content,
        headers={**caller.headers, **call.headers},
        timeout=300,
    )
    return resp.status_code


def _matches(want: str, got: int) -> bool:
    if want == "2xx":
        return 200 <= got < 300
    if want == "403" and got == 403:
        return True
    # a refused websocket upgrade is a 403 handshake whatever the reason
    return str(got) == want


def test_every_route_for_every_caller(server: str, server_data_dir: Path, local_site: str) -> None:
    table = route_table(gateway_app)
    undeclared = [f"{e.method} {e.path}" for e in table if e.policy is None]
    assert not undeclared, f"routes without a policy: {undeclared}"
    missing = [f"{e.method} {e.path}" for e in table if (e.method, e.path) not in RECIPES]
    assert not missing, f"routes without a row in the authorization matrix: {missing}"

    started = time.monotonic()
    callers, spaces = _setup(server, server_data_dir, local_site)
    for ws in spaces.values():  # made once, before callers race to make them
        for what in ("app", "conversation", "kb", "doc", "workflow", "workflow_run", "crew",
                     "crew_run", "provider", "key", "member", "invitation"):  # fmt: skip
            ws.shared(what)
    wrong: list[str] = []
    crossed = {"reads": 0, "writes": 0}
    calls = 0
    spent: dict[tuple[str, str], float] = {}

    def one(entry: Any, caller: Caller, cross: bool) -> tuple[str, int]:
        key = (entry.method, entry.path)
        want = expected(str(entry.policy), caller, cross)
        if want == "2xx" and caller.app == "A2" and key in APP_BOUND:
            want = "404"
        if entry.method == "WS" and want in ("401", "403"):
            want = "403"  # a refused upgrade
        own = spaces.get(caller.workspace or "A", spaces["A"])
        other = spaces["B" if caller.workspace == "A" else "A"]
        call = RECIPES[key](other if cross else own, caller, want == "2xx")
        if want in ("401", "403") and call.json is not None:
            call.json = {}  # refused before the body is looked at
        return want, _status(server, entry.method, call, caller)

    # The callers of one route run at once (routes one after another, in table order).
    with ThreadPoolExecutor(max_workers=8) as pool:
        for entry in table:
            jobs = [
                (caller, cross)
                for caller in callers
                for cross in ((False, True) if "{" in entry.path else (False,))
            ]
            began = time.monotonic()
            results = list(pool.map(one, [entry] * len(jobs), *zip(*jobs, strict=True)))
            spent[(entry.method, entry.path)] = time.monotonic() - began
            for (caller, cross), (want, got) in zip(jobs, results, strict=True):
                calls += 1
                if cross and 200 <= got < 300 and (entry.method, entry.path) not in OPEN_ACROSS:
                    crossed["reads" if entry.method == "GET" else "writes"] += 1
                if not _matches(want, got):
                    where = "other workspace's object" if cross else "own"
                    wrong.append(f"{entry.method} {entry.path} as {caller.name} ({where}): "
                                 f"want {want}, got {got}")  # fmt: skip
    print(
        f"\nauthorization matrix: {len(table)} routes x {len(callers)} callers = {calls} calls "
        f"in {time.monotonic() - started:.0f} s; {crossed['reads']} cross-workspace reads, "
        f"{crossed['writes']} cross-workspace writes"
    )
    slowest = sorted(spent.items(), key=lambda kv: -kv[1])[:8]
    print("slowest routes:", ", ".join(f"{m} {p} {t:.1f}s" for (m, p), t in slowest))
    assert not wrong, "\n".join(wrong)
    assert crossed == {"reads": 0, "writes": 0}
