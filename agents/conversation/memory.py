"""Memory assembly: the rolling summary plus the recent window, counted in engine tokens.

Short-term memory is the last ``window_messages`` messages that also fit
``window_tokens``. Messages that fall out of the window are folded into the
long-term summary (written by the model, bounded to ``summary_max_chars``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agents.apps.spec import MemorySpec
from agents.conversation.records import MessageRecord
from agents.engine import ChatMessage

TokenCounter = Callable[[list[ChatMessage]], Awaitable[int]]

SUMMARY_INSTRUCTIONS = (
    "You maintain the long-term memory of a conversation. Rewrite the memory so it keeps "
    "every fact, name, number and preference the user stated, then add what is new in the "
    "turns below. Write short plain sentences. At most {limit} characters."
)


def as_chat(message: MessageRecord) -> ChatMessage:
    return ChatMessage(role=message.role, content=message.content)


def usable(messages: list[MessageRecord]) -> list[MessageRecord]:
    """Messages the model should remember: finished user and assistant turns."""
    return [
        m
        for m in messages
        if m.role in ("user", "assistant") and m.status in ("complete", "stopped") and m.content
    ]


@dataclass
class Window:
    kept: list[MessageRecord]
    #: messages outside the window not yet covered by the summary, oldest first
    evicted: list[MessageRecord]


class TokenCache:
    """Token counts per message id, so each message is counted by the engine once."""

    def __init__(self, counter: TokenCounter) -> None:
        self._counter = counter
        self._counts: dict[str, int] = {}

    async def count(self, message: MessageRecord) -> int:
        if message.id not in self._counts:
            self._counts[message.id] = await self._counter([as_chat(message)])
        return self._counts[message.id]


async def select_window(
    history: list[MessageRecord],
    spec: MemorySpec,
    tokens: TokenCache,
    summarized_until: int,
) -> Window:
    """Pick the recent window from ``history`` (which ends with the new user message).

    The newest message is always kept, even if it alone exceeds the token budget
    (the engine then refuses an over-long prompt with a clear error).
    """
    kept: list[MessageRecord] = []
    used = 0
    for message in reversed(history):
        if kept and len(kept) >= max(spec.window_messages, 1):
            break
        size = await tokens.count(message)
        if kept and used + size > spec.window_tokens:
            break
        kept.append(message)
        used += size
    kept.reverse()
    first_kept = kept[0].seq if kept else 0
    evicted = [m for m in history if summarized_until < m.seq < first_kept]
    return Window(kept=kept, evicted=evicted)


def summary_request(previous: str, evicted: list[MessageRecord], limit: int) -> list[ChatMessage]:
    """The messages that ask the model to fold ``evicted`` into the ``previous`` summary."""
    turns = "\n".join(f"{m.role}: {m.content}" for m in evicted)
    return [
        ChatMessage(role="system", content=SUMMARY_INSTRUCTIONS.format(limit=limit)),
        ChatMessage(
            role="user",
            content=f"Memory so far:\n{previous or '(empty)'}\n\nNew turns:\n{turns}\n\n"
            "Updated memory:",
        ),
    ]


def fallback_summary(previous: str, evicted: list[MessageRecord], limit: int) -> str:
    """An extractive summary when the model's is unusable: what the user said, newest last."""
    said = " ".join(m.content.strip() for m in evicted if m.role == "user")
    return bound(f"{previous} {said}".strip(), limit)


def bound(text: str, limit: int) -> str:
    """Keep the summary within ``limit`` characters, cutting at a sentence end if possible."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("。"), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > limit // 2 else cut


def assemble(system_prompt: str, summary: str, window: list[MessageRecord]) -> list[ChatMessage]:
    """The prompt: system instructions with the long-term memory, then the window."""
    system = system_prompt
    if summary:
        system += f"\n\nWhat you remember from earlier in this conversation:\n{summary}"
    return [ChatMessage(role="system", content=system), *(as_chat(m) for m in window)]
