import json

import pytest

from agents import tool_calls
from agents.engine import ChatMessage, ChatRequest, FunctionCall, ToolCall
from agents.errors import UpstreamError

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def request(**kw: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], **kw}
    )


def test_named_choice_schema_is_the_one_tool() -> None:
    req = request(
        tools=[WEATHER, TIME], tool_choice={"type": "function", "function": {"name": "get_weather"}}
    )
    schema = tool_calls.reply_schema(req)
    assert schema["properties"]["name"] == {"const": "get_weather"}
    assert schema["properties"]["arguments"] == WEATHER["function"]["parameters"]
    assert schema["additionalProperties"] is False


def test_auto_choice_allows_an_answer_too() -> None:
    schema = tool_calls.reply_schema(request(tools=[WEATHER, TIME], tool_choice="auto"))
    branches = schema["anyOf"]
    assert len(branches) == 3
    assert {"content"} == set(branches[-1]["properties"])


def test_required_choice_forbids_plain_answers() -> None:
    schema = tool_calls.reply_schema(request(tools=[WEATHER, TIME], tool_choice="required"))
    assert all("name" in b["properties"] for b in schema["anyOf"])


def test_parse_call_and_answer() -> None:
    req = request(tools=[WEATHER], tool_choice="auto")
    content, calls = tool_calls.parse_reply(
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}', req
    )
    assert content is None
    assert calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"city": "Oslo"}
    content, calls = tool_calls.parse_reply('{"content": "Sunny"}', req)
    assert (content, calls) == ("Sunny", [])


@pytest.mark.parametrize("reply", ["not json", '{"name": "rm_rf", "arguments": {}}', "[1, 2]"])
def test_parse_rejects_replies_outside_the_schema(reply: str) -> None:
    with pytest.raises(UpstreamError):
        tool_calls.parse_reply(reply, request(tools=[WEATHER], tool_choice="auto"))


def test_history_and_tools_prompt_are_rendered_as_text() -> None:
    call = ToolCall(
        id="call_1", function=FunctionCall(name="get_weather", arguments='{"city": "Oslo"}')
    )
    req = request(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Oslo?"},
            ChatMessage(role="assistant", tool_calls=[call]).model_dump(),
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 20C"},
        ],
        tools=[WEATHER],
        tool_choice="auto",
    )
    messages = tool_calls.with_tools_prompt(req)
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0].text().startswith("Be brief.")
    assert "get_weather" in messages[0].text()
    assert json.loads(messages[2].text()) == {"name": "get_weather", "arguments": {"city": "Oslo"}}
    assert "call_1" in messages[3].text() and "Sunny" in messages[3].text()


def test_tool_choice_none_switches_tools_off() -> None:
    assert not tool_calls.uses_tools(request(tools=[WEATHER], tool_choice="none"))
    assert tool_calls.uses_tools(request(tools=[WEATHER]))


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ('{"content": "Twelve times seven is 8', "Twelve times seven is 8"),
        ('{ "content" : "line one\\nline \\"two', 'line one\nline "two'),
        ('{"content": "caf\\u00', "caf"),  # a partial escape is dropped
        ('{"content": "done"', "done"),
        ('{"content": "', ""),
    ],
)
def test_an_answer_cut_off_by_max_tokens_is_salvaged(reply: str, answer: str) -> None:
    assert tool_calls.cut_answer(reply) == answer


@pytest.mark.parametrize(
    "reply", ['{"name": "calculator", "arguments": {"expr', '{"conte', "plain text", ""]
)
def test_a_cut_off_call_is_not_an_answer(reply: str) -> None:
    assert tool_calls.cut_answer(reply) is None
