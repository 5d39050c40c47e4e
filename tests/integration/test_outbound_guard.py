"""The SSRF guard against real sockets: a loopback HTTP server of the test's own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster.outbound.guard import GuardedFetcher, OutboundBlockedError, OutboundPolicy

pytestmark = pytest.mark.integration


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/redirect"):
            target = self.path.split("to=", 1)[1]
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return
        body = f"hello from {self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def local_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


async def test_loopback_is_refused_by_default(local_server: int) -> None:
    fetcher = GuardedFetcher()
    for url in (f"http://127.0.0.1:{local_server}/", f"http://localhost:{local_server}/"):
        with pytest.raises(OutboundBlockedError, match="loopback"):
            await fetcher.fetch(url)
    await fetcher.aclose()


async def test_allowlisted_loopback_server_is_reached(local_server: int) -> None:
    fetcher = GuardedFetcher(OutboundPolicy(allow_hosts=[f"127.0.0.1:{local_server}"]))
    result = await fetcher.fetch(f"http://127.0.0.1:{local_server}/page")
    assert (
        result.status_code == 200
        and result.content == f"hello from 127.0.0.1:{local_server}".encode()
    )
    # The allowlisted server redirects to a host that is not allowlisted: refused.
    with pytest.raises(OutboundBlockedError):
        await fetcher.fetch(
            f"http://127.0.0.1:{local_server}/redirect?to=http://localhost:{local_server}/"
        )
    await fetcher.aclose()
