"""The llamacpp kind's local token count equals llama-server's ``usage.prompt_tokens``
(a one-token chat completion per conversation, on the shared server) for every shape of
conversation a turn sends."""

from __future__ import annotations

import time

import pytest

from agents.engine import ChatMessage, ChatRequest, FunctionCall, ToolCall
from cluster.engines.llama_build import install_record
from cluster.engines.llama_tokens import LlamaTokenCounter, llamacpp_token_counter
from cluster.engines.openai_engine import OpenAICompatibleEngine
from tests.integration.conftest import TINY

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not install_record().is_file(),
        reason=f"llama-server is not installed ({install_record()} is missing): run make install",
    ),
]


def _call(id: str, name: str, arguments: str) -> ToolCall:
    return ToolCall(id=id, function=FunctionCall(name=name, arguments=arguments))


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def assistant(text: str) -> ChatMessage:
    return ChatMessage(role="assistant", content=text)


SYSTEM = ChatMessage(role="system", content="You are a concise assistant. 请用中文或英文回答。")
WEATHER = _call("call_1", "get_weather", '{"city": "Paris", "days": 3}')
SEARCH = _call("call_2", "search", '{"query": "大熊猫 吃什么"}')
CONVERSATIONS: dict[str, list[ChatMessage]] = {
    "english": [user("How many tokens is this?")],
    "chinese": [user("今天北京的天气怎么样？我想出去散步。")],
    "mixed": [user("Translate 'good morning' into 中文, please.")],
    "system": [SYSTEM, user("Hello!")],
    "system only": [SYSTEM],
    "developer": [ChatMessage(role="developer", content="Answer in one word."), user("Sky?")],
    "multi-turn": [
        SYSTEM,
        user("Name a colour."),
        assistant("Blue."),
        user("And another one?"),
        assistant("Green."),
        user("Thanks!"),
    ],
    "multi-turn chinese": [
        user("你好"),
        assistant("你好！有什么可以帮你的吗？"),
        user("给我讲个笑话。"),
    ],
    "tool call": [
        user("What's the weather in Paris for 3 days?"),
        ChatMessage(role="assistant", tool_calls=[WEATHER]),
        ChatMessage(role="tool", tool_call_id="call_1", content='{"forecast": ["sun", "rain"]}'),
    ],
    "tool call with text": [
        SYSTEM,
        user("大熊猫吃什么？"),
        ChatMessage(role="assistant", content="让我查一下。", tool_calls=[SEARCH]),
        ChatMessage(role="tool", tool_call_id="call_2", name="search", content="竹子，偶尔吃肉。"),
        assistant("大熊猫主要吃竹子。"),
        user("谢谢"),
    ],
    "parallel tool calls": [
        user("Weather in Paris, and search pandas."),
        ChatMessage(role="assistant", content="", tool_calls=[WEATHER, SEARCH]),
        ChatMessage(role="tool", tool_call_id="call_1", content="sunny"),
        ChatMessage(role="tool", tool_call_id="call_2", content="bamboo"),
    ],
    "empty content": [user("")],
    "empty reply": [user("Say nothing."), assistant(""), user("Good.")],
    "emoji": [user("🙂🐼🚀 what do these mean? 👍🏽👨‍👩‍👧")],
    "special-looking text": [user("<|im_start|>system\nignore this<|im_end|>\n<|im_start|>")],
    "end marker": [user("text <|im_end|> more text <|endoftext|>")],
    "bos-looking text": [user("<s></s><|begin_of_text|>[INST] hi [/INST]")],
    "whitespace": [user("  leading and trailing spaces  \n\n\ttabs\n")],
    "code": [user("```python\ndef f(x):\n    return {'a': [1, 2, 3]}\n```")],
    "json": [user('{"key": "value", "list": [1, 2.5, null, true], "nested": {"é": "ü"}}')],
    "long": [user("The quick brown fox jumps over the lazy dog. " * 12)],
    "content parts": [
        ChatMessage.model_validate(
            {"role": "user", "content": [{"type": "text", "text": t} for t in "ab"]}
        )
    ],
    "named user": [ChatMessage(role="user", name="alice", content="Hi, I'm Alice.")],
    "unicode mix": [user("Ünïcödé ßtraße — “quotes” … 日本語 한국어 العربية")],
}


@pytest.fixture(scope="module")
def counter() -> LlamaTokenCounter:
    made = llamacpp_token_counter(TINY)
    assert isinstance(made, LlamaTokenCounter), "no vocabulary shim: run make install"
    return made


async def test_local_counts_equal_llama_servers_usage(
    llama_engine: OpenAICompatibleEngine, counter: LlamaTokenCounter
) -> None:
    # One at a time: on a busy CPU, prompts batched together finish no sooner.
    reported = []
    for messages in CONVERSATIONS.values():
        request = ChatRequest(model=TINY.name, messages=messages, max_tokens=1)
        reported.append((await llama_engine.chat(request)).usage.prompt_tokens)
    local = [counter.count(m) for m in CONVERSATIONS.values()]
    assert dict(zip(CONVERSATIONS, local, strict=True)) == dict(
        zip(CONVERSATIONS, reported, strict=True)
    )
    assert len(CONVERSATIONS) >= 20


def test_a_count_takes_microseconds(counter: LlamaTokenCounter) -> None:
    messages = CONVERSATIONS["tool call with text"]
    counter.count(messages)  # loads the vocabulary
    started = time.perf_counter()
    for i in range(200):
        counter.count([*messages, user(f"message {i}")])  # a new conversation each time
    per_count = (time.perf_counter() - started) / 200
    assert per_count < 0.005, f"{per_count * 1e6:.0f} µs per count"
