import pytest
from pydantic import ValidationError

from agents.engine import ChatRequest


def test_named_tool_choice_must_name_a_tool() -> None:
    with pytest.raises(ValidationError, match="not in tools"):
        ChatRequest.model_validate(
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "tool_choice": {"type": "function", "function": {"name": "ghost"}},
            }
        )


def test_json_schema_format_needs_a_schema() -> None:
    with pytest.raises(ValidationError, match="json_schema is required"):
        ChatRequest.model_validate(
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema"},
            }
        )


def test_content_parts_and_limits() -> None:
    req = ChatRequest.model_validate(
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                }
            ],
            "max_tokens": 10,
            "max_completion_tokens": 20,
            "stop": "END",
        }
    )
    assert req.messages[0].text() == "ab"
    assert req.completion_limit() == 20
    assert req.stop_list() == ["END"]


def test_empty_messages_are_refused() -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate({"model": "m", "messages": []})
