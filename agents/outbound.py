"""What agents/ needs from the server's outbound HTTP: the one SSRF guard
(``cluster.outbound.guard.GuardedFetcher``), as a protocol."""

from __future__ import annotations

from typing import Protocol


class HttpResponseProtocol(Protocol):
    url: str
    status_code: int
    headers: dict[str, str]
    content: bytes


class HttpClientProtocol(Protocol):
    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponseProtocol:
        """The response (after checked redirects); raises ChorusError for a refused URL
        (``url_blocked``), a timeout or a network failure."""
        ...
