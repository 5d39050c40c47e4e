"""Error translation of the shared OpenAI-compatible client, against scripted HTTP answers.

The real server path is covered in tests/integration/test_llamacpp_engine.py.
"""

import json

import httpx
import pytest

from agents.engine import ChatRequest
from agents.errors import (
    ContextWindowExceededError,
    InvalidInputError,
    RateLimitedError,
    UpstreamError,
    UpstreamUnavailableError,
)
from cluster.engines.openai_engine import OpenAICompatibleEngine
from cluster.settings import EngineSettings


def engine(handler) -> OpenAICompatibleEngine:  # type: ignore[no-untyped-def]
    return OpenAICompatibleEngine(
        EngineSettings(name="m"), "http://upstream/v1", transport=httpx.MockTransport(handler)
    )


def req(**kw: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], **kw}
    )


def answer(status: int, body: dict) -> httpx.Response:  # type: ignore[type-arg]
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 2048 tokens",
                    "code": None,
                }
            },
            ContextWindowExceededError,
        ),
        (
            400,
            {"error": {"message": "bad", "code": "context_length_exceeded"}},
            ContextWindowExceededError,
        ),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "request (1531 tokens) exceeds the available context size",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 1531,
                    "n_ctx": 1024,
                }
            },
            ContextWindowExceededError,
        ),
        (400, {"error": {"message": "bad stop", "param": "stop"}}, InvalidInputError),
        (429, {"error": {"message": "slow down"}}, RateLimitedError),
        (503, {"error": {"message": "loading"}}, UpstreamUnavailableError),
        (500, {"detail": "boom"}, UpstreamError),
    ],
)
async def test_status_errors(status: int, body: dict, expected: type) -> None:  # type: ignore[type-arg]
    eng = engine(lambda r: answer(status, body))
    with pytest.raises(expected):
        await eng.chat(req())
    with pytest.raises(expected):
        [c async for c in eng.chat_stream(req())]


async def test_unreachable_server_is_503_with_retry() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(UpstreamUnavailableError) as info:
        await engine(refuse).chat(req())
    assert info.value.retry_after > 0


async def test_schema_mode_sends_schema_and_reads_tool_call() -> None:
    sent: list[dict] = []  # type: ignore[type-arg]

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return answer(
            200,
            {
                "model": "m",
                "choices": [
                    {
                        "message": {
                            "role": "assistant",
                            "content": '{"name": "f", "arguments": {"a": 1}}',
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            },
        )

    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
            },
        }
    ]
    out = await engine(upstream).chat(req(tools=tools, tool_choice="required"))
    assert "tools" not in sent[0] and sent[0]["response_format"]["type"] == "json_schema"
    assert sent[0]["messages"][0]["role"] == "system" and "f:" in sent[0]["messages"][0]["content"]
    assert out.choices[0].finish_reason == "tool_calls"
    assert json.loads(out.choices[0].message.tool_calls[0].function.arguments) == {"a": 1}


async def test_stream_without_upstream_usage_gets_counted() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/apply-template":
            return answer(200, {"prompt": "<|im_start|>user\nx<|im_end|>\n"})
        if request.url.path == "/tokenize":
            return answer(200, {"tokens": list(range(11))})
        lines = [
            {"id": "c1", "model": "m", "choices": [{"delta": {"role": "assistant"}}]},
            {"id": "c1", "model": "m", "choices": [{"delta": {"content": "Hi"}}]},
            {"id": "c1", "model": "m", "choices": [{"delta": {}, "finish_reason": "stop"}]},
        ]
        body = "".join(f"data: {json.dumps(x)}\n\n" for x in lines) + "data: [DONE]\n\n"
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    chunks = [c async for c in engine(upstream).chat_stream(req())]
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (11, 1)


@pytest.mark.parametrize(
    ("content", "salvaged"),
    [('{"content": "Twelve times seven is eigh', "Twelve times seven is eigh"),
     ('{"name": "f", "arguments": {"a', None)],
)  # fmt: skip
async def test_a_reply_cut_off_by_max_tokens(content: str, salvaged: str | None) -> None:
    """An emulated answer cut off by max_tokens is the answer so far (finish_reason
    length, as without tools); a cut-off call cannot be run and is an upstream error."""

    def upstream(request: httpx.Request) -> httpx.Response:
        body = {
            "model": "m",
            "choices": [{"message": {"role": "assistant", "content": content},
                         "finish_reason": "length"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        }  # fmt: skip
        return answer(200, body)

    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    request = req(tools=tools, tool_choice="auto")
    if salvaged is None:
        with pytest.raises(UpstreamError, match="ran out of tokens"):
            await engine(upstream).chat(request)
        return
    out = await engine(upstream).chat(request)
    assert out.choices[0].message.content == salvaged
    assert out.choices[0].finish_reason == "length" and not out.choices[0].message.tool_calls


async def test_llama_server_over_window_says_by_how_much() -> None:
    """llama-server's exceed_context_size_error, said as the excess over the slot's window."""
    body = {
        "error": {
            "code": 400,
            "message": "request (1531 tokens) exceeds the available context size (1024 tokens)",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": 1531,
            "n_ctx": 1024,
        }
    }
    with pytest.raises(ContextWindowExceededError) as info:
        await engine(lambda r: answer(400, body)).chat(req())
    assert info.value.details == {
        "prompt_tokens": 1531,
        "context_window": 1024,
        "excess_tokens": 508,
    }
    assert "508 over the context window of 1024" in info.value.message


async def test_a_schema_the_grammar_refuses_names_response_format() -> None:
    message = (
        "Unable to generate parser for this template. Automatic parser generation failed: "
        "JSON schema error at #: unrecognized type strange"
    )
    body = {"error": {"code": 400, "message": message, "type": "invalid_request_error"}}
    with pytest.raises(InvalidInputError) as info:
        await engine(lambda r: answer(400, body)).chat(req())
    assert info.value.param == "response_format"
    assert "unrecognized type strange" in info.value.message


async def test_count_tokens_renders_then_tokenizes() -> None:
    sent: list[tuple[str, dict]] = []  # type: ignore[type-arg]

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, json.loads(request.content)))
        if request.url.path == "/apply-template":
            return answer(200, {"prompt": "<|im_start|>user\nx<|im_end|>\n"})
        return answer(200, {"tokens": [1, 2, 3, 4]})

    assert await engine(upstream).count_tokens(req().messages) == 4
    assert [path for path, _ in sent] == ["/apply-template", "/tokenize"]
    assert sent[0][1]["messages"] == [{"role": "user", "content": "x"}]
    assert sent[1][1] == {
        "content": "<|im_start|>user\nx<|im_end|>\n",
        "add_special": True,
        "parse_special": True,
    }


@pytest.mark.parametrize(
    ("settings", "temperature", "fields"),
    [
        (EngineSettings(name="m"), 0, {"cache_prompt": False}),
        (EngineSettings(name="m"), 0.7, {}),
        (EngineSettings(name="m", kind="openai", base_url="http://x/v1"), 0, {}),
    ],
)
async def test_greedy_llamacpp_requests_skip_the_prompt_cache(
    settings: EngineSettings,
    temperature: float,
    fields: dict,  # type: ignore[type-arg]
) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return answer(400, {"error": {"message": json.dumps(body), "param": "echo"}})

    eng = OpenAICompatibleEngine(settings, "http://x/v1", transport=httpx.MockTransport(upstream))
    with pytest.raises(InvalidInputError) as info:  # the upstream echoes the body it got
        await eng.chat(req(temperature=temperature))
    sent = json.loads(info.value.message)
    assert {k: sent[k] for k in ("cache_prompt",) if k in sent} == fields
