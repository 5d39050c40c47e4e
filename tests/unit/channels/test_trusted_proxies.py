"""Whose address and scheme the server believes: the peer's, unless the peer is a
trusted proxy (the ``trusted_proxies`` setting)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from channels.auth import client_address, is_secure
from cluster.settings import ChorusSettings


def request(
    peer: str, headers: dict[str, str], trusted: list[str], scheme: str = "http"
) -> Request:
    settings = SimpleNamespace(trusted_proxies=trusted)
    app = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(settings=settings)))
    scope = {
        "type": "http",
        "scheme": scheme,
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "server": ("127.0.0.1", 8000),
        "client": (peer, 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }
    return Request(scope)


FORWARDED = {"X-Forwarded-For": "6.6.6.6, 203.0.113.5, 10.0.0.2", "X-Forwarded-Proto": "https"}


def test_without_trusted_proxies_the_headers_are_ignored() -> None:
    conn = request("198.51.100.1", FORWARDED, [])
    assert client_address(conn) == "198.51.100.1"
    assert not is_secure(conn)


def test_an_untrusted_peer_cannot_claim_an_address() -> None:
    conn = request("198.51.100.1", FORWARDED, ["10.0.0.0/8"])
    assert client_address(conn) == "198.51.100.1"
    assert not is_secure(conn)


def test_a_trusted_proxy_gives_the_nearest_untrusted_address() -> None:
    conn = request("10.0.0.1", FORWARDED, ["10.0.0.0/8"])
    # 10.0.0.2 is a proxy too; 6.6.6.6 was written by the client, never believed
    assert client_address(conn) == "203.0.113.5"
    assert is_secure(conn)
    assert is_secure(request("198.51.100.1", {}, [], scheme="https"))


def test_the_setting_refuses_what_is_not_a_network() -> None:
    assert ChorusSettings(trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies
    with pytest.raises(ValidationError, match="trusted_proxies"):
        ChorusSettings(trusted_proxies=["proxy.local"])
