"""Same-site crawling: the links of an HTML page, and which of them to follow."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

_SKIP = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".css", ".js", ".zip", ".gz", ".mp4", ".ico")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def same_site_links(html: str, page_url: str) -> list[str]:
    """Absolute http(s) links on the page's own host, without fragments, in order, once."""
    parser = _Links()
    parser.feed(html)
    host = urlsplit(page_url).netloc.lower()
    seen: set[str] = set()
    out: list[str] = []
    for href in parser.hrefs:
        url = urldefrag(urljoin(page_url, href.strip()))[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host:
            continue
        if parts.path.lower().endswith(_SKIP) or url in seen:
            continue
        seen.add(url)
        out.append(url)
    return out
