"""Prompt token counts without asking the engine (issue 12, DESIGN decision 10).

A turn counts each new message's tokens to fit its memory window. Asked of the engine
replica, every count is a round trip through Ray Serve; a :class:`LocalTokenCounter`
answers in the caller's own process instead: exactly, with the model's own tokenizer
and chat template (llama.cpp's vocabulary, the scripted engine's rule), or as an
estimate corrected by the usage the engine reports (remote endpoints, whose tokenizer
cannot be loaded here). The engine's reported usage stays the source of truth for
billing; these counts only size the prompt.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Protocol, runtime_checkable

from agents.engine import ChatMessage


@runtime_checkable
class LocalTokenCounter(Protocol):
    """Counts a conversation's prompt tokens in-process, chat template included."""

    #: True when counts equal the engine's ``usage.prompt_tokens``.
    exact: bool

    def count(self, messages: list[ChatMessage]) -> int:
        """The prompt tokens of ``messages`` as the engine would render them."""
        ...

    def observe(self, messages: list[ChatMessage], reported: int) -> None:
        """The engine said ``messages`` took ``reported`` prompt tokens (estimates learn)."""
        ...


_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


class EstimatedTokenCounter:
    """An estimate for engines whose tokenizer is not available locally: about four
    characters of Latin text per token, one token per CJK character, a few per message
    for the template, scaled by what the engine has reported for earlier prompts."""

    exact = False
    #: Template tokens per message (role markers and separators) before correction.
    PER_MESSAGE = 4
    #: How far one observation moves the correction (an exponential moving average).
    LEARNING_RATE = 0.2

    def __init__(self) -> None:
        self._ratio = 1.0
        self._lock = threading.Lock()

    @property
    def ratio(self) -> float:
        """Reported tokens per estimated token, as learned so far."""
        return self._ratio

    def raw(self, messages: list[ChatMessage]) -> int:
        total = 0
        for message in messages:
            text = message.text()
            cjk = len(_CJK.findall(text))
            total += cjk + math.ceil((len(text) - cjk) / 4) + self.PER_MESSAGE
        return total

    def count(self, messages: list[ChatMessage]) -> int:
        return max(1, round(self.raw(messages) * self._ratio))

    def observe(self, messages: list[ChatMessage], reported: int) -> None:
        estimated = self.raw(messages)
        if estimated <= 0 or reported <= 0:
            return
        seen = min(max(reported / estimated, 0.25), 4.0)  # one odd answer cannot run away
        with self._lock:
            self._ratio += self.LEARNING_RATE * (seen - self._ratio)
