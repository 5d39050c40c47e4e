"""Login sessions, CSRF, the lockout, keys, invitations and the audit log over HTTP: on
`chorus serve` as the README starts it (SQLite), and on the same routes in-process over
a real PostgreSQL (the accounts' SQL store, the edge, the error handlers; no Ray).

Each flow makes its own users. Failed logins carry their own address in
X-Forwarded-For (the servers trust loopback as a proxy), so the lockout of one flow
never locks another out, and the audit log shows that address.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from agents.accounts.secrets import AccessTokenSigner
from agents.accounts.service import AccountService
from agents.ids import utcnow
from channels import accounts_api
from channels.auth import CSRF_COOKIE, Edge
from channels.errors import install_error_handlers
from cluster.settings import ChorusSettings
from cluster.store import SqlAccountStore
from tests.e2e import auth
from tests.integration.postgres import postgres_url  # noqa: F401 - a shared fixture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "flows-password-1"


@dataclass
class Target:
    name: str
    http: httpx.AsyncClient
    signer: AccessTokenSigner
    operator: dict[str, str]

    async def user(self) -> str:
        """A new user's email (password PASSWORD), owner of a new workspace."""
        email = f"flow-{secrets.token_hex(4)}@{self.name}.test"
        made = await self.http.post(
            "/api/admin/users", json={"email": email, "password": PASSWORD}, headers=self.operator
        )
        assert made.status_code == 201, made.text
        ws = await self.http.post(
            "/api/admin/workspaces",
            json={"name": "flows", "owner_email": email},
            headers=self.operator,
        )
        assert ws.status_code == 201, ws.text
        return email

    async def login(self, email: str, password: str = PASSWORD, ip: str = "") -> httpx.Response:
        headers = {"X-Forwarded-For": ip or _address()}
        answer = await self.http.post(
            "/api/auth/login", json={"email": email, "password": password}, headers=headers
        )
        self.http.cookies.clear()  # bearer tokens from here on, unless a test sends cookies
        return answer


def _address() -> str:
    """A documentation address of its own (TEST-NET-3) for each caller."""
    return f"203.0.113.{secrets.randbelow(254) + 1}"


@asynccontextmanager
async def _on_postgres(url: str) -> AsyncIterator[Target]:
    """The accounts routes in-process, on the accounts' SQL store at ``url``."""
    store = SqlAccountStore(url)
    await store.start()
    signer = AccessTokenSigner(secrets.token_bytes(32))
    accounts = AccountService(store, signer)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(accounts_api.router)
    settings = ChorusSettings(trusted_proxies=["127.0.0.1"])
    app.state.services = SimpleNamespace(accounts=accounts, settings=settings)
    app.state.edge = Edge(accounts)
    email = f"operator-{secrets.token_hex(4)}@pg.test"
    await accounts.create_user(email, PASSWORD, operator=True)
    tokens = await accounts.login(email, PASSWORD)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://pg.test") as http:
            yield Target("pg", http, signer, auth.bearer(tokens.access_token))
    finally:
        await store.close()


@pytest.fixture(params=["serve", "postgresql"])
async def target(request: pytest.FixtureRequest, server_data_dir: Path) -> AsyncIterator[Target]:
    if request.param == "postgresql":
        async with _on_postgres(request.getfixturevalue("postgres_url")) as on_postgres:
            yield on_postgres
        return
    base = request.getfixturevalue("server")
    signer = AccessTokenSigner((server_data_dir / "auth.key").read_bytes().strip())
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        yield Target("serve", http, signer, auth.operator())


async def test_login_refresh_rotation_reuse_and_logout(target: Target) -> None:
    email = await target.user()
    wrong = await target.login(email, "not the password")
    unknown = await target.login("nobody-" + email, PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"]  # no user enumeration
    assert wrong.json()["error"]["code"] == "invalid_credentials"

    ip = _address()
    first = await target.login(email, ip=ip)
    assert first.status_code == 200, first.text
    cookies = first.headers.get_list("set-cookie")
    access_cookie = next(c for c in cookies if c.startswith("chorus_access="))
    assert "HttpOnly" in access_cookie and "SameSite=lax" in access_cookie
    assert "Secure" not in access_cookie  # plain HTTP
    r1 = first.json()["refresh_token"]

    second = await target.http.post("/api/auth/refresh", json={"refresh_token": r1})
    assert second.status_code == 200, second.text
    r2, a2 = second.json()["refresh_token"], second.json()["access_token"]
    me = await target.http.get("/api/auth/me", headers=auth.bearer(a2))
    assert me.json()["user"]["email"] == email

    reused = await target.http.post("/api/auth/refresh", json={"refresh_token": r1})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "token_invalid"
    # the reuse ended the whole session: the newest token, and its access, are refused
    after = await target.http.post("/api/auth/refresh", json={"refresh_token": r2})
    assert after.status_code == 401
    gone = await target.http.get("/api/auth/me", headers=auth.bearer(a2))
    assert gone.status_code == 401

    third = (await target.login(email)).json()
    out = await target.http.post("/api/auth/logout", json={"refresh_token": third["refresh_token"]})
    assert out.status_code == 204
    ended = await target.http.get("/api/auth/me", headers=auth.bearer(third["access_token"]))
    assert ended.status_code == 401

    # the owner reads their members' logins, from the address the proxy named
    owner = (await target.login(email)).json()["access_token"]
    log = (await target.http.get("/api/audit", headers=auth.bearer(owner))).json()["data"]
    logins = [e for e in log if e["action"] == "login.succeeded"]
    assert ip in {e["actor"]["ip"] for e in logins}
    failed = [e for e in log if e["action"] == "login.failed"]
    assert len(failed) == 1 and PASSWORD not in str(log) and r1 not in str(log)


async def test_an_expired_token_and_a_password_change(target: Target) -> None:
    email = await target.user()
    one = (await target.login(email)).json()
    two = (await target.login(email)).json()
    claims = target.signer.check(one["access_token"])
    old = target.signer.sign(
        claims.user_id, claims.session_id, utcnow() - timedelta(hours=2), timedelta(minutes=5)
    )
    expired = await target.http.get("/api/auth/me", headers=auth.bearer(old))
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"

    changed = await target.http.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD + "-new"},
        headers=auth.bearer(one["access_token"]),
    )
    assert changed.status_code == 204, changed.text
    mine = await target.http.get("/api/auth/me", headers=auth.bearer(one["access_token"]))
    assert mine.status_code == 200  # the session that changed it stays
    other = await target.http.post(
        "/api/auth/refresh", json={"refresh_token": two["refresh_token"]}
    )
    assert other.status_code == 401  # every other session ended
    assert (await target.login(email)).status_code == 401
    assert (await target.login(email, PASSWORD + "-new")).status_code == 200


async def test_cookies_need_the_csrf_header_to_change_anything(target: Target) -> None:
    email = await target.user()
    answer = await target.login(email)
    jar = {c: answer.cookies[c] for c in ("chorus_access", "chorus_csrf")}
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}  # as a browser sends
    body = {"name": "from a browser", "scopes": ["read"]}
    read = await target.http.get("/api/keys", headers=cookie)
    assert read.status_code == 200, read.text  # reads need no token
    forged = await target.http.post("/api/keys", json=body, headers=cookie)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    wrong = await target.http.post("/api/keys", json=body, headers={**cookie, "X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    made = await target.http.post(
        "/api/keys", json=body, headers={**cookie, "X-CSRF-Token": jar[CSRF_COOKIE]}
    )
    assert made.status_code == 201, made.text


async def test_repeated_failures_are_locked_out(target: Target) -> None:
    email = await target.user()
    ip = _address()
    codes = [(await target.login(email, "wrong password", ip=ip)).status_code for _ in range(10)]
    assert codes == [401] * 10
    locked = await target.login(email, PASSWORD, ip=ip)  # even the right password, for now
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "account_locked"
    assert int(locked.headers["retry-after"]) > 0
    elsewhere = await target.login(f"other-{email}", PASSWORD, ip=_address())
    assert elsewhere.status_code == 401  # another email from another address is not locked


async def test_key_scopes_and_revocation(target: Target) -> None:
    email = await target.user()
    owner = auth.bearer((await target.login(email)).json()["access_token"])

    async def key(scopes: list[str]) -> tuple[str, str]:
        made = await target.http.post(
            "/api/keys", json={"name": "k", "scopes": scopes}, headers=owner
        )
        assert made.status_code == 201, made.text
        return made.json()["key"]["id"], made.json()["secret"]

    read_id, read = await key(["read"])
    _, admin = await key(["admin"])
    refused = await target.http.get("/api/members", headers=auth.bearer(read))
    assert refused.status_code == 403 and "admin" in refused.json()["error"]["message"]
    assert (await target.http.get("/api/members", headers=auth.bearer(admin))).status_code == 200
    listed = (await target.http.get("/api/keys", headers=auth.bearer(admin))).text
    assert read not in listed and admin not in listed  # secrets are shown once

    revoked = await target.http.delete(f"/api/keys/{read_id}", headers=owner)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await target.http.get("/api/members", headers=auth.bearer(read))
    assert after.status_code == 401 and after.json()["error"]["code"] == "key_revoked"
    log = (await target.http.get("/api/audit", headers=owner)).json()["data"]
    assert {"key.created", "key.revoked"} <= {e["action"] for e in log}


async def test_an_invitation_link_is_used_once(target: Target) -> None:
    email = await target.user()
    owner = auth.bearer((await target.login(email)).json()["access_token"])
    invited = f"invited-{secrets.token_hex(4)}@{target.name}.test"
    made = await target.http.post(
        "/api/invitations", json={"email": invited, "role": "editor"}, headers=owner
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert made.json()["link"].endswith("/invite/" + token)
    accepted = await target.http.post(
        "/api/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    joined = auth.bearer(accepted.json()["access_token"])
    spaces = (await target.http.get("/api/workspaces", headers=joined)).json()["data"]
    assert [s["role"] for s in spaces] == ["editor"]
    again = await target.http.post(
        "/api/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert again.status_code == 404 and again.json()["error"]["code"] == "invitation_invalid"
    members = (await target.http.get("/api/members", headers=owner)).json()["data"]
    assert len(members) == 2
