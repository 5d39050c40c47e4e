"""Keyword terms for BM25 on Chinese and English alike.

Both stores index a ``terms`` field: the text cut into words by jieba (search mode,
so long Chinese words also yield their parts), lower-cased, punctuation dropped,
joined by spaces. Queries are cut the same way, so whitespace tokenisation in the
store matches what a Chinese-aware tokenizer would.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

_KEEP = re.compile(r"\w", re.UNICODE)


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def terms(text: str) -> str:
    words = _jieba().cut_for_search(text.lower())
    return " ".join(w for w in (w.strip() for w in words) if w and _KEEP.search(w))
