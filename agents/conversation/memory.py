"""Memory assembly: the rolling summary plus the recent window, counted in engine tokens.

Short-term memory is the last ``window_messages`` messages that also fit
``window_tokens``. Messages that fall out of the window are folded into the
long-term summary (written by the model, bounded to ``summary_max_chars``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agents.apps.spec import MemorySpec
from agents.conversation.records import MessageRecord
from agents.engine import ChatMessage

TokenCounter = Callable[[list[ChatMessage]], Awaitable[int]]

SUMMARY_INSTRUCTIONS = (
    "You maintain the long-term memory of a conversation. Rewrite the summary so it keeps "
    "what matters from the earlier summary, then add what is new in the turns below. "
    "Write short plain sentences. At most {limit} characters."
)
NOTES_HEADER = "The user said earlier:"
SUMMARY_HEADER = "Summary of earlier turns:"
#: Share of the long-term memory kept for the user's own words.
NOTES_SHARE = 0.5


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
    # Count the candidates' tokens concurrently (each new message once, then cached).
    candidates = history[-max(spec.window_messages, 1) :]
    await asyncio.gather(*(tokens.count(m) for m in candidates))
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
            content=f"Summary so far:\n{previous or '(empty)'}\n\nNew turns:\n{turns}\n\n"
            "Updated summary:",
        ),
    ]


@dataclass
class LongTermMemory:
    """The rolling long-term memory: the user's own words, kept verbatim (names, numbers
    and preferences survive a weak summariser), plus the model's summary of the rest.
    Both are bounded; the oldest notes go first when they overflow."""

    notes: list[str]
    summary: str

    @classmethod
    def parse(cls, text: str) -> LongTermMemory:
        if not text.startswith(NOTES_HEADER):
            return cls(notes=[], summary=text.strip())
        notes_part, _, summary = text[len(NOTES_HEADER) :].partition(SUMMARY_HEADER)
        notes = [line[2:].strip() for line in notes_part.splitlines() if line.startswith("- ")]
        return cls(notes=notes, summary=summary.strip())

    def add_notes(self, evicted: list[MessageRecord], limit: int) -> None:
        for message in evicted:
            said = bound(message.content, limit)
            if message.role == "user" and said and said not in self.notes:
                self.notes.append(said)
        while self.notes and sum(len(n) + 3 for n in self.notes) > limit:
            self.notes.pop(0)

    def render(self, limit: int) -> str:
        parts: list[str] = []
        if self.notes:
            parts.append(NOTES_HEADER + "\n" + "\n".join(f"- {n}" for n in self.notes))
        room = limit - sum(len(p) + 1 for p in parts) - len(SUMMARY_HEADER) - 1
        if self.summary and room > 20:
            parts.append(SUMMARY_HEADER + "\n" + bound(self.summary, room))
        return "\n".join(parts)


def fold(previous: str, evicted: list[MessageRecord], model_summary: str, limit: int) -> str:
    """The new long-term memory: earlier notes plus the user's evicted words, and the
    model's new summary (the earlier one if the model gave nothing)."""
    memory = LongTermMemory.parse(previous)
    memory.add_notes(evicted, int(limit * NOTES_SHARE))
    if model_summary.strip():
        memory.summary = model_summary.strip()
    return memory.render(limit)


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
