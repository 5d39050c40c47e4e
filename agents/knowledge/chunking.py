"""Token-aware chunking with overlap, respecting Chinese and English sentence ends.

Pure functions. ``count`` measures tokens (pass the embedding model's tokenizer for
exact counts; the default estimates: one token per CJK character, 1.3 per word).
Parent-child mode returns small chunks to retrieve, each carrying the larger section
(its parent) to give the model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

TokenCount = Callable[[str], int]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
# A sentence ends after CJK terminators (optionally closed by quotes/brackets), or after
# . ! ? ; followed by whitespace.
_SENTENCE_END = re.compile(r"(?<=[。！？；…])[”’」』）)\"']*|(?<=[.!?;])[\"')\]]*(?=\s)")
# No space is put between two pieces joined at CJK text or CJK punctuation.
_CJK_JOIN = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_PARAGRAPH = re.compile(r"\n\s*\n")


def estimate_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(text))
    return cjk + math.ceil(words * 1.3)


@dataclass
class Chunk:
    index: int
    text: str
    tokens: int
    parent_index: int | None = None
    parent_text: str | None = None


def split_sentences(text: str) -> list[str]:
    """Sentences, in order; paragraph breaks always end one."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            end = match.end()
            if end > start:
                piece = paragraph[start:end].strip()
                if piece:
                    sentences.append(piece)
                start = end
        rest = paragraph[start:].strip()
        if rest:
            sentences.append(rest)
    return sentences


def _hard_split(sentence: str, max_tokens: int, count: TokenCount) -> list[str]:
    """A sentence longer than a chunk, cut at the last space or CJK character that fits."""
    pieces: list[str] = []
    rest = sentence
    while rest and count(rest) > max_tokens:
        low, high = 1, len(rest)
        while low < high:  # longest prefix that fits
            mid = (low + high + 1) // 2
            if count(rest[:mid]) <= max_tokens:
                low = mid
            else:
                high = mid - 1
        cut = rest.rfind(" ", 0, low)
        cut = cut if cut > low // 2 else low
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return [p for p in pieces if p]


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if text and not (_CJK_JOIN.match(text[-1]) or _CJK_JOIN.match(part[0])):
            text += " "
        text += part
    return text


def chunk_text(
    text: str,
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 32,
    count: TokenCount = estimate_tokens,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_tokens``; each chunk starts
    with up to ``overlap_tokens`` of the previous chunk's last sentences."""
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    overlap_tokens = min(overlap_tokens, max_tokens // 2)
    units: list[tuple[str, int]] = []
    for sentence in split_sentences(text):
        n = count(sentence)
        if n > max_tokens:
            units.extend((p, count(p)) for p in _hard_split(sentence, max_tokens, count))
        else:
            units.append((sentence, n))
    chunks: list[Chunk] = []
    current: list[tuple[str, int]] = []
    size = 0
    fresh = 0  # units in `current` that are not overlap from the previous chunk
    for unit in units:
        if current and size + unit[1] > max_tokens:
            chunks.append(Chunk(len(chunks), _join([u[0] for u in current]), size))
            carry: list[tuple[str, int]] = []
            carried = 0
            for prev in reversed(current):
                if carried + prev[1] > overlap_tokens or carried + prev[1] + unit[1] > max_tokens:
                    break
                carry.insert(0, prev)
                carried += prev[1]
            current, size, fresh = carry, carried, 0
        current.append(unit)
        size += unit[1]
        fresh += 1
    if current and fresh:
        chunks.append(Chunk(len(chunks), _join([u[0] for u in current]), size))
    return chunks


def chunk_parent_child(
    text: str,
    *,
    parent_max_tokens: int = 1024,
    child_max_tokens: int = 128,
    overlap_tokens: int = 16,
    count: TokenCount = estimate_tokens,
) -> list[Chunk]:
    """Small chunks for retrieval, each with its parent section's text and index."""
    children: list[Chunk] = []
    parents = chunk_text(text, max_tokens=parent_max_tokens, overlap_tokens=0, count=count)
    for parent in parents:
        for child in chunk_text(
            parent.text, max_tokens=child_max_tokens, overlap_tokens=overlap_tokens, count=count
        ):
            children.append(
                Chunk(
                    index=len(children),
                    text=child.text,
                    tokens=child.tokens,
                    parent_index=parent.index,
                    parent_text=parent.text,
                )
            )
    return children
