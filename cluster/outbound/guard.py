"""The one outbound-fetch guard: no request on a user's behalf reaches a private address.

Every request the server makes for a user (URL ingestion, HTTP nodes, OpenAPI
imports, tools, user-entered model endpoints) goes through :class:`GuardedFetcher`:

- the host is resolved once and *every* address it resolves to is checked:
  private, loopback, link-local, carrier-grade NAT, multicast, reserved,
  unspecified and cloud-metadata addresses are refused (IPv4, IPv6 and
  IPv4-mapped IPv6 alike);
- the connection goes to the checked address itself (the URL's host stays in
  the ``Host`` header and TLS SNI), so a second DNS answer cannot swap in a
  private address between check and connect (DNS rebinding);
- redirects are followed by hand and every hop is checked the same way;
- hosts in the allowlist (``host`` or ``host:port``) skip the address check —
  that is how tests reach their own loopback servers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import structlog

from agents import error_codes
from agents.errors import InvalidInputError, TimeoutError, UpstreamError

log = structlog.get_logger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
}
_EXTRA_BLOCKED = [
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64 can reach private IPv4
]
_REDIRECTS = {301, 302, 303, 307, 308}


class OutboundBlockedError(InvalidInputError):
    """The URL is not allowed: its scheme, or an address its host resolves to."""

    code = error_codes.URL_BLOCKED


def blocked_reason(address: str) -> str | None:
    """Why an IP address may not be fetched, or None if it may."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "a reserved address"
    if any(ip in net for net in _EXTRA_BLOCKED):
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass
class OutboundPolicy:
    allow_hosts: list[str] = field(default_factory=list)
    schemes: tuple[str, ...] = ("http", "https")
    max_redirects: int = 5
    timeout_s: float = 20.0
    max_bytes: int = 50 * 1024 * 1024

    def allows_host(self, host: str, port: int) -> bool:
        host = host.lower().strip("[]")
        return host in self.allow_hosts or f"{host}:{port}" in self.allow_hosts


@dataclass
class FetchResult:
    url: str = field(metadata={"doc": "The final URL, after redirects."})
    status_code: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class GuardedFetcher:
    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy or OutboundPolicy()
        self._resolve = resolver
        self._client = httpx.AsyncClient(
            timeout=self.policy.timeout_s, follow_redirects=False, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check(self, url: str) -> tuple[str, str]:
        """Validate ``url``; returns ``(url to connect to, host)`` with the host pinned
        to a checked address. Raises OutboundBlockedError."""
        parts = urlsplit(url)
        if parts.scheme not in self.policy.schemes:
            raise OutboundBlockedError(
                f"only {', '.join(self.policy.schemes)} URLs may be fetched, not {url!r}",
                param="url",
            )
        host = parts.hostname
        if not host:
            raise OutboundBlockedError(f"the URL {url!r} has no host", param="url")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.policy.allows_host(host, port):
            return url, host
        try:
            addresses = [host] if _is_ip(host) else await self._resolve(host, port)
        except OSError as exc:
            raise UpstreamError(f"cannot resolve host {host!r}: {exc}") from exc
        if not addresses:
            raise UpstreamError(f"host {host!r} has no address")
        for address in addresses:
            reason = blocked_reason(address)
            if reason:
                log.warning("outbound_blocked", host=host, address=address, reason=reason)
                raise OutboundBlockedError(
                    f"refusing to fetch {url!r}: {host} resolves to {reason} ({address})",
                    param="url",
                    details={"host": host, "address": address},
                )
        pinned = addresses[0]
        netloc = f"[{pinned}]" if ":" in pinned else pinned
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc)), host

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch ``url`` through the guard, following checked redirects.

        Raises OutboundBlockedError (refused), TimeoutError, or UpstreamError (network
        failure, too many redirects, body over ``max_bytes``)."""
        limit = max_bytes or self.policy.max_bytes
        current = url
        for _ in range(self.policy.max_redirects + 1):
            target, host = await self.check(current)
            request_headers = dict(headers or {})
            parts = urlsplit(current)
            request_headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
            try:
                request = self._client.build_request(
                    method, target, headers=request_headers, content=content, extensions=extensions
                )
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise TimeoutError(f"{current} did not answer in time") from exc
            except httpx.HTTPError as exc:
                raise UpstreamError(f"cannot fetch {current}: {exc}") from exc
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    if response.status_code == 303:
                        method, content = "GET", None
                    continue
                body = await _read_limited(response, limit, current)
                return FetchResult(
                    url=current,
                    status_code=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    content=body,
                )
            finally:
                await response.aclose()
        raise UpstreamError(f"{url} redirected more than {self.policy.max_redirects} times")


async def _read_limited(response: httpx.Response, limit: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UpstreamError(f"{url} is {int(declared)} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise UpstreamError(f"{url} is over the limit of {limit} bytes")
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise TimeoutError(f"{url} did not finish in time") from exc
    except httpx.HTTPError as exc:
        raise UpstreamError(f"reading {url} failed: {exc}") from exc
    return b"".join(chunks)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
