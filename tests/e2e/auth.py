"""Credentials for the e2e suites: the server under test runs with authentication on
(there is no way to turn it off), so every call carries one.

The ``server`` fixture logs in as the instance's first user (owner of ``local`` and
the instance operator) and makes a workspace key with every scope; tests send that
key, as a script or SDK would. ``OTHER`` is a key of a second workspace, for the
cross-workspace checks, and ``OPERATOR`` the operator's access token (for /metrics).
"""

from __future__ import annotations

from typing import Any

import httpx
from websockets.asyncio.client import connect as _ws_connect

ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "e2e-admin-password"
#: Filled by the server fixture.
KEY = ""
OTHER = ""
OPERATOR = ""


def bearer(credential: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential or KEY}"}


def other_workspace() -> dict[str, str]:
    """Headers of a caller in another workspace."""
    return bearer(OTHER)


def operator() -> dict[str, str]:
    return bearer(OPERATOR)


def _with(kw: dict[str, Any]) -> dict[str, Any]:
    kw["headers"] = {**bearer(), **(kw.get("headers") or {})}
    return kw


def get(url: str, **kw: Any) -> httpx.Response:
    return httpx.get(url, **_with(kw))


def post(url: str, **kw: Any) -> httpx.Response:
    return httpx.post(url, **_with(kw))


def delete(url: str, **kw: Any) -> httpx.Response:
    return httpx.delete(url, **_with(kw))


def client(**kw: Any) -> httpx.Client:
    return httpx.Client(**_with(kw))


def async_client(**kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_with(kw))


def connect(url: str, **kw: Any) -> Any:
    """``websockets.connect`` with the key (``additional_headers``)."""
    kw["additional_headers"] = {**bearer(), **(kw.get("additional_headers") or {})}
    return _ws_connect(url, **kw)


def provision(base: str) -> None:
    """Log in as the first user, make the keys (called once by the server fixture)."""
    global KEY, OTHER, OPERATOR
    login = httpx.post(
        base + "/api/auth/login",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    OPERATOR = login.json()["access_token"]
    admin = bearer(OPERATOR)
    made = httpx.post(
        base + "/api/keys",
        json={"name": "e2e", "scopes": ["read", "write", "admin"]},
        headers=admin,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    KEY = made.json()["secret"]
    other = httpx.post(
        base + "/api/admin/workspaces", json={"name": "intruders"}, headers=admin, timeout=30
    )
    assert other.status_code == 201, other.text
    made = httpx.post(
        base + "/api/keys",
        json={"name": "intruder", "scopes": ["read", "write", "admin"]},
        headers={**admin, "X-Workspace-Id": other.json()["id"]},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    OTHER = made.json()["secret"]
