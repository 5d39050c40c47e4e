"""Keyword moderation: block input, mask output — also across streamed deltas."""

from __future__ import annotations

import re


def _pattern(words: list[str]) -> re.Pattern[str] | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def blocked_keyword(text: str, keywords: list[str]) -> str | None:
    """The first input keyword found in ``text`` (case-insensitive), or None."""
    pattern = _pattern(keywords)
    match = pattern.search(text) if pattern else None
    return match.group(0) if match else None


class OutputMasker:
    """Masks keywords in a stream of deltas.

    It holds back the last ``longest keyword - 1`` characters, so a keyword split
    across deltas is still masked before anything of it is sent. Call
    :meth:`feed` per delta and :meth:`flush` at the end.
    """

    def __init__(self, keywords: list[str], mask: str = "*") -> None:
        self._pattern = _pattern(keywords)
        self._hold = max((len(w) for w in keywords), default=1) - 1
        self._mask = mask
        self._buffer = ""
        self.masked = 0

    def _apply(self, text: str) -> str:
        if self._pattern is None:
            return text

        def repl(m: re.Match[str]) -> str:
            self.masked += 1
            return self._mask * len(m.group(0))

        return self._pattern.sub(repl, text)

    def feed(self, delta: str) -> str:
        """Text safe to send now (possibly empty)."""
        if self._pattern is None:
            return delta
        self._buffer = self._apply(self._buffer + delta)
        if self._hold == 0:
            out, self._buffer = self._buffer, ""
            return out
        cut = max(0, len(self._buffer) - self._hold)
        out, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return out

    def flush(self) -> str:
        out, self._buffer = self._apply(self._buffer), ""
        return out
