"""The SSRF guard, with scripted DNS answers and scripted HTTP answers."""

from __future__ import annotations

import httpx
import pytest

from agents.errors import UpstreamError
from cluster.outbound.guard import (
    GuardedFetcher,
    OutboundBlockedError,
    OutboundPolicy,
    blocked_reason,
)

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
        "169.254.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fd00:ec2::254", "64:ff9b::a00:1",
    ],
)  # fmt: skip
def test_private_addresses_are_refused(address: str) -> None:
    assert blocked_reason(address) is not None


@pytest.mark.parametrize("address", [PUBLIC, "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(address) is None


def resolver(answers: dict[str, list[list[str]]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def fetcher(handler, answers, **policy) -> GuardedFetcher:  # type: ignore[no-untyped-def]
    return GuardedFetcher(
        OutboundPolicy(**policy),
        resolver=resolver(answers),
        transport=httpx.MockTransport(handler),
    )


async def test_connects_to_the_checked_address_with_the_original_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="hello", headers={"content-type": "text/plain"})

    result = await fetcher(handler, {"example.com": [[PUBLIC]]}).fetch("http://example.com/a?b=1")
    assert result.content == b"hello" and result.content_type == "text/plain"
    assert seen[0].url.host == PUBLIC and seen[0].url.path == "/a"
    assert seen[0].headers["host"] == "example.com"


async def test_dns_rebinding_cannot_swap_in_a_private_address() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, text="ok")

    # First answer public, any later answer loopback: the checked one is the one used.
    f = fetcher(handler, {"rebind.test": [[PUBLIC], ["127.0.0.1"]]})
    await f.fetch("http://rebind.test/")
    assert seen == [PUBLIC]
    with pytest.raises(OutboundBlockedError, match="loopback"):
        await f.fetch("http://rebind.test/")


async def test_any_private_answer_blocks() -> None:
    f = fetcher(lambda r: httpx.Response(200), {"mixed.test": [[PUBLIC, "10.1.2.3"]]})
    with pytest.raises(OutboundBlockedError, match="private"):
        await f.fetch("http://mixed.test/")


async def test_redirect_to_private_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})

    with pytest.raises(OutboundBlockedError, match="metadata"):
        await fetcher(handler, {"example.com": [[PUBLIC]]}).fetch("http://example.com/")


async def test_redirects_are_followed_and_bounded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/final":
            return httpx.Response(200, text="done")
        return httpx.Response(301, headers={"location": "/final"})

    result = await fetcher(handler, {"example.com": [[PUBLIC]]}).fetch("http://example.com/start")
    assert result.url == "http://example.com/final" and result.content == b"done"

    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/again"})

    with pytest.raises(UpstreamError, match="redirected more than"):
        await fetcher(loop, {"example.com": [[PUBLIC]]}, max_redirects=3).fetch(
            "http://example.com/"
        )


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://example.com/", "http://127.0.0.1:8000/", "http://[::1]/"],
)
async def test_schemes_and_literal_addresses(url: str) -> None:
    with pytest.raises(OutboundBlockedError):
        await fetcher(lambda r: httpx.Response(200), {}).fetch(url)


async def test_allowlist_opens_a_loopback_host() -> None:
    f = fetcher(lambda r: httpx.Response(200, text="mine"), {}, allow_hosts=["127.0.0.1:9999"])
    assert (await f.fetch("http://127.0.0.1:9999/x")).content == b"mine"
    with pytest.raises(OutboundBlockedError):
        await f.fetch("http://127.0.0.1:9998/x")


async def test_body_size_is_capped() -> None:
    f = fetcher(lambda r: httpx.Response(200, content=b"x" * 5000), {"big.test": [[PUBLIC]]})
    with pytest.raises(UpstreamError, match="limit"):
        await f.fetch("http://big.test/", max_bytes=1000)
