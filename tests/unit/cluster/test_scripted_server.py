"""The ``scripted_server`` kind: the scripted engine behind the OpenAI protocol, read by
the same client as llama-server, answering exactly as the in-process kind does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agents.engine import ChatMessage, ChatRequest, FunctionDefinition, ToolDefinition
from agents.errors import ContextWindowExceededError
from cluster.engines.direct import DirectClients, DirectRoute
from cluster.engines.kinds import engine_kinds
from cluster.engines.openai_engine import OpenAICompatibleEngine
from cluster.engines.scripted import scripted_engine
from cluster.engines.scripted_server import build
from cluster.settings import EngineSettings
from tests.unit.cluster.test_scripted_kind import _deployment

SETTINGS = EngineSettings(name="bench", kind="scripted_server", context_window=256)


def _client() -> OpenAICompatibleEngine:
    transport = httpx.ASGITransport(app=build(SETTINGS))
    return OpenAICompatibleEngine(SETTINGS, "http://scripted/v1", transport=transport)


def _request(text: str = "hi", **kw: Any) -> ChatRequest:
    return ChatRequest(model="bench", messages=[ChatMessage(role="user", content=text)], **kw)


def test_the_kind_launches_the_server_and_counts_locally() -> None:
    kind = engine_kinds().get("scripted_server")
    argv = kind.launch_command(SETTINGS, 4321)
    assert argv[1:3] == ["-m", "cluster.engines.scripted_server"]
    assert argv[argv.index("--port") + 1] == "4321"
    assert EngineSettings.model_validate_json(argv[argv.index("--settings") + 1]) == SETTINGS
    assert kind.token_counter(SETTINGS) is not None and kind.tool_calls == "native"
    assert DirectClients({"bench": SETTINGS}).serves("bench")
    assert not DirectClients({"s": EngineSettings(name="s", kind="scripted")}).serves("s")


async def test_streams_what_the_in_process_engine_streams() -> None:
    served = [c async for c in _client().chat_stream(_request())]
    local = [c async for c in scripted_engine(SETTINGS).chat_stream(_request())]
    assert [c.model_dump(exclude={"id", "created"}) for c in served] == [
        c.model_dump(exclude={"id", "created"}) for c in local
    ]
    assert served[-1].usage is not None and served[-1].usage.completion_tokens > 10


async def test_non_streamed_and_native_tool_calls() -> None:
    completion = await _client().chat(_request())
    assert completion.choices[0].message.content == SETTINGS.scripted_reply
    tool = ToolDefinition(function=FunctionDefinition(name="clock", parameters={}))
    with_tools = await _client().chat(_request(tools=[tool]))
    assert with_tools.choices[0].message.content == SETTINGS.scripted_reply


async def test_a_refusal_is_the_engines_typed_error() -> None:
    with pytest.raises(ContextWindowExceededError):
        await anext(_client().chat_stream(_request("word " * 300)))


async def test_a_replica_without_a_server_relays_routed_streams() -> None:
    replica = _deployment(EngineSettings(name="bench", kind="scripted"))
    items = [i async for i in replica.chat_stream_routed(_request(stream=True), "node-1")]
    assert not any(isinstance(i, DirectRoute) for i in items)
    assert "".join(c.choices[0].delta.content or "" for b in items for c in b if c.choices)
    assert replica.streams == {"direct": 0, "relayed": 1} and replica.in_flight == 0
