"""The official openai SDK against `chorus serve`: the real model, Ray Serve, the gateway."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai
import pytest

from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MODEL = "smollm2-135m-instruct"
EMBED = "multilingual-e5-small"


def test_models_are_listed(openai_client) -> None:  # type: ignore[no-untyped-def]
    ids = {m.id for m in openai_client.models.list()}
    assert {MODEL, EMBED} <= ids


def test_non_streamed_answer(openai_client) -> None:  # type: ignore[no-untyped-def]
    out = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=16, seed=1
    )
    assert out.choices[0].message.content
    assert out.usage.prompt_tokens > 0 and 0 < out.usage.completion_tokens <= 16


def test_streamed_answer_arrives_delta_by_delta(openai_client) -> None:  # type: ignore[no-untyped-def]
    arrivals: list[float] = []
    pieces: list[str] = []
    usage = None
    stream = openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Tell me about the sea."}],
        max_tokens=40,
        stream=True,
        stream_options={"include_usage": True},
        seed=2,
    )
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.perf_counter())
            pieces.append(chunk.choices[0].delta.content)
    assert len(pieces) >= 10
    # Deltas are spread over the generation, not buffered into one burst.
    assert arrivals[-1] - arrivals[0] > 0.05
    assert len({round(t, 3) for t in arrivals}) > len(arrivals) // 2
    assert usage is not None and usage.completion_tokens == pytest.approx(len(pieces), abs=3)


def test_forced_tool_call_validates_against_schema(openai_client) -> None:  # type: ignore[no-untyped-def]
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 40},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    }
    out = openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather in Rome in celsius?"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": schema,
                },
            }
        ],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=80,
        temperature=0,
    )
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    args = json.loads(call.function.arguments)
    assert call.function.name == "get_weather"
    assert (
        set(args) == {"city", "unit"}
        and isinstance(args["city"], str)
        and args["unit"] in ("c", "f")
    )


def test_forced_tool_call_streamed(openai_client) -> None:  # type: ignore[no-untyped-def]
    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {"q": {"type": "string", "maxLength": 40}},
                "required": ["q"],
                "additionalProperties": False,
            },
        },
    }
    calls = []
    for chunk in openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Look up Ray Serve."}],
        tools=[tool],
        tool_choice="required",
        max_tokens=80,
        temperature=0,
        stream=True,
    ):
        if chunk.choices and chunk.choices[0].delta.tool_calls:
            calls.extend(chunk.choices[0].delta.tool_calls)
    assert calls and calls[0].function.name == "lookup"
    assert isinstance(json.loads(calls[0].function.arguments)["q"], str)


def test_json_schema_answer_parses(openai_client) -> None:  # type: ignore[no-untyped-def]
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 40},
            "year": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 3},
        },
        "required": ["title", "year", "tags"],
        "additionalProperties": False,
    }
    out = openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe a film as JSON."}],
        max_tokens=200,
        temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "film", "schema": schema}},
    )
    assert out.choices[0].finish_reason == "stop"
    data = json.loads(out.choices[0].message.content)
    assert set(data) == {"title", "year", "tags"} and isinstance(data["year"], int)


def test_embeddings_english_and_chinese(openai_client) -> None:  # type: ignore[no-untyped-def]
    texts = [
        "How do I reset my password?",
        "Steps to change a forgotten password",
        "The recipe needs two eggs.",
        "如何重置我的密码?",
        "忘记密码后如何修改",
        "这道菜需要两个鸡蛋。",
    ]
    out = openai_client.embeddings.create(model=EMBED, input=texts)  # SDK default: base64
    v = np.array([d.embedding for d in out.data])
    assert v.shape == (6, 384)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2]
    assert sim[3, 4] > sim[3, 5]
    assert out.usage.prompt_tokens > 0
    floats = openai_client.embeddings.create(model=EMBED, input="hello", encoding_format="float")
    assert len(floats.data[0].embedding) == 384


def test_many_concurrent_streams_do_not_stall(openai_client) -> None:  # type: ignore[no-untyped-def]
    def one(i: int) -> int:
        n = 0
        for chunk in openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"Number {i}?"}],
            max_tokens=6,
            stream=True,
        ):
            n += bool(chunk.choices and chunk.choices[0].delta.content)
        return n

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(one, range(8)))
    assert all(c > 0 for c in counts)


# -- bad input ----------------------------------------------------------------------------


def test_unknown_model_is_404_in_openai_shape(openai_client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    err = info.value.body
    assert err["code"] == "model_not_found" and err["param"] == "model"
    assert "no-such-model" in err["message"]


def test_malformed_body_is_400_naming_the_field(openai_client, server: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "robot", "content": "x"}],  # type: ignore[list-item]
        )
    assert info.value.body["param"] == "messages.0.role"
    assert "messages.0.role" in info.value.body["message"]
    resp = auth.post(
        server + "/v1/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400 and "not valid JSON" in resp.json()["error"]["message"]
    resp = auth.post(
        server + "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "x"}], "temperature": "hot"},
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "temperature"
    assert "Traceback" not in resp.text


def test_prompt_over_context_window_is_400_saying_by_how_much(openai_client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "lorem " * 3000}]
        )
    body = info.value.body
    assert body["code"] == "context_length_exceeded"
    excess = body["details"]["excess_tokens"]
    assert excess > 0 and f"{excess} over" in body["message"]
    with pytest.raises(openai.BadRequestError):  # streamed requests are refused the same way
        list(
            openai_client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "lorem " * 3000}], stream=True
            )
        )


def test_health_and_metrics(server: str, openai_client) -> None:  # type: ignore[no-untyped-def]
    health = auth.get(server + "/healthz").json()
    assert health["status"] == "ok" and all(health["models"].values())
    openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    text = ""
    for _ in range(30):  # Ray's metrics agent exports on an interval
        text = auth.get(server + "/metrics", timeout=10, headers=auth.operator()).text
        if "chorus_tokens_total" in text:
            break
        time.sleep(1)
    assert "chorus_tokens_total" in text and "chorus_requests_total" in text


def test_engine_server_metrics_are_under_metrics(server: str, openai_client) -> None:  # type: ignore[no-untyped-def]
    """llama-server's own metrics (slots busy, tokens/s), labelled with the model."""
    openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    text = auth.get(server + "/metrics", timeout=10, headers=auth.operator()).text
    lines = text.splitlines()
    assert f'llamacpp:requests_processing{{model="{MODEL}"}} 0' in lines
    sample = f'llamacpp:tokens_predicted_total{{model="{MODEL}"}}'
    predicted = [x for x in lines if x.startswith(sample)]
    assert len(predicted) == 1 and float(predicted[0].split()[-1]) >= 2
    assert lines.count("# TYPE llamacpp:requests_processing gauge") == 1
