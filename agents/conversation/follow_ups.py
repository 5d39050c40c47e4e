"""Follow-up suggestions: what the model is asked for after an answer, and reading its
reply (JSON constrained by a schema, so even the small CPU model returns a list)."""

from __future__ import annotations

import json
from typing import Any

from agents.engine import ChatMessage, ChatRequest, ResponseFormat


def follow_ups_schema(count: int) -> dict[str, Any]:
    """The JSON Schema of the reply: ``{"questions": [...]}``, one to ``count`` short ones."""
    return {
        "type": "object",
        "properties": {
            "questions": {
                "type": "array",
                "items": {"type": "string", "minLength": 3, "maxLength": 120},
                "minItems": 1,
                "maxItems": count,
            }
        },
        "required": ["questions"],
        "additionalProperties": False,
    }


def follow_ups_messages(count: int, question: str, answer: str) -> list[ChatMessage]:
    """The prompt: the last question and its answer, and what to suggest."""
    return [
        ChatMessage(
            role="system",
            content=f"Suggest up to {count} short follow-up questions the user might ask "
            "next. Reply with JSON.",
        ),
        ChatMessage(role="user", content=f"User: {question}\nAssistant: {answer}"),
    ]


def follow_ups_request(model: str, messages: list[ChatMessage], count: int) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=messages,
        temperature=0.3,
        max_tokens=60 * count,
        response_format=ResponseFormat.model_validate(
            {
                "type": "json_schema",
                "json_schema": {"name": "f", "schema": follow_ups_schema(count)},
            }
        ),
    )


def read_follow_ups(reply: str | None, count: int) -> list[str]:
    """At most ``count`` non-empty questions; ValueError or AttributeError when the reply
    is not the JSON asked for."""
    data = json.loads(reply or "{}")
    questions = [q.strip() for q in data.get("questions", []) if str(q).strip()]
    return questions[:count]
