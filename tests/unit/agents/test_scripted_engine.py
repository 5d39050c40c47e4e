import pytest

from agents.engine import ChatRequest, EngineProtocol
from agents.errors import ContextWindowExceededError, UpstreamUnavailableError
from agents.scripted_engine import ScriptedEngine, ScriptedReply


def req(text: str = "hi", **kw: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "scripted", "messages": [{"role": "user", "content": text}], **kw}
    )


async def test_follows_the_stream_contract() -> None:
    engine = ScriptedEngine(["Hello there, friend."])
    assert isinstance(engine, EngineProtocol)
    chunks = [c async for c in engine.chat_stream(req())]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there, friend."
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3


async def test_tool_calls_and_errors_in_order() -> None:
    engine = ScriptedEngine(
        [
            ScriptedReply(tool_calls=[("search", {"q": "ray"})]),
            ScriptedReply(error=UpstreamUnavailableError("down")),
            "done",
        ]
    )
    first = await engine.chat(req())
    assert first.choices[0].finish_reason == "tool_calls"
    assert first.choices[0].message.tool_calls[0].function.name == "search"
    with pytest.raises(UpstreamUnavailableError):
        await engine.chat(req())
    assert (await engine.chat(req())).choices[0].message.content == "done"
    assert len(engine.requests) == 3


async def test_context_window_is_enforced() -> None:
    engine = ScriptedEngine(["x"], context_window=10)
    with pytest.raises(ContextWindowExceededError, match="over the context window"):
        await engine.chat(req("word " * 20))
