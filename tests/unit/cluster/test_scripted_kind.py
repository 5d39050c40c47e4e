"""The ``scripted`` engine kind: a fixed reply, no process, for benchmarks and load tests."""

from typing import Any

import pytest
from pydantic import ValidationError

from agents.coalesce import BatchPolicy
from agents.engine import ChatMessage, ChatRequest
from agents.errors import RateLimitedError
from cluster.engines.deployments import ChatEngineDeployment, chat_engine_options, deployment_name
from cluster.engines.scripted import scripted_engine
from cluster.settings import DEFAULT_SCRIPTED_REPLY, ChorusSettings, EngineSettings


def _request(text: str = "hi") -> ChatRequest:
    return ChatRequest(
        model="bench", messages=[ChatMessage(role="user", content=text)], stream=True
    )


def _deployment(settings: EngineSettings, batches: BatchPolicy | None = None) -> Any:
    """The replica class with its engine, without Ray and without its async __init__."""
    deployment: Any = ChatEngineDeployment
    cls = deployment.func_or_class
    replica = object.__new__(cls)
    replica.settings = settings
    replica.batches = batches or BatchPolicy()
    replica.process = None
    replica.in_flight = 0
    replica.streams = {"direct": 0, "relayed": 0}
    replica.node_id = ""
    replica.engine = scripted_engine(settings)
    return replica


def test_defaults() -> None:
    s = EngineSettings(name="bench", kind="scripted")
    assert s.scripted_reply == DEFAULT_SCRIPTED_REPLY
    assert 15 <= len(s.scripted_reply.split()) <= 25
    assert s.scripted_token_delay_s == 0.0
    assert s.model == ""  # needs no model, unlike sglang


def test_from_env_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "CHORUS_ENGINES",
        '[{"name": "bench", "kind": "scripted", "scripted_reply": "ok", '
        '"scripted_token_delay_s": 0.01}]',
    )
    engine = ChorusSettings().engines[0]
    assert (engine.kind, engine.scripted_reply, engine.scripted_token_delay_s) == (
        "scripted",
        "ok",
        0.01,
    )


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="scripted_reply"):
        EngineSettings(name="bench", kind="scripted", scripted_reply="")
    with pytest.raises(ValidationError, match="scripted_token_delay_s"):
        EngineSettings(name="bench", kind="scripted", scripted_token_delay_s=-1)
    with pytest.raises(ValidationError, match="kind"):
        EngineSettings.model_validate({"name": "bench", "kind": "scripted-typo"})


def test_other_kinds_keep_their_checks() -> None:
    with pytest.raises(ValidationError, match="needs base_url"):
        EngineSettings(name="x", kind="openai")
    with pytest.raises(ValidationError, match="needs model"):
        EngineSettings(name="x", kind="sglang")
    assert EngineSettings(name="x").kind == "llamacpp"


def test_options_no_gpus_fixed_replicas() -> None:
    opts = chat_engine_options(EngineSettings(name="bench", kind="scripted", num_replicas=2))
    assert opts["name"] == deployment_name("bench")
    assert opts["num_replicas"] == 2
    assert "autoscaling_config" not in opts
    assert "num_gpus" not in opts["ray_actor_options"]
    assert opts["ray_actor_options"]["num_cpus"] == 0
    assert "runtime_env" not in opts["ray_actor_options"]


async def test_replica_streams_the_reply_repeatedly() -> None:
    replica = _deployment(EngineSettings(name="bench", kind="scripted", scripted_reply="a b c"))
    assert replica.ready() and replica.status()["pid"] is None
    assert replica.model_card().id == "bench"
    for _ in range(3):  # the last scripted reply repeats forever
        chunks = [c async for c in replica.chat_stream(_request())]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "a b c"
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    assert len(replica.engine.requests) <= 8  # a load test must not grow it without bound


async def test_raw_stream_falls_back_to_dumped_chunks() -> None:
    replica = _deployment(EngineSettings(name="bench", kind="scripted", scripted_reply="x y"))
    chunks = [c async for c in replica.chat_stream_raw(_request())]
    assert all(isinstance(c, dict) for c in chunks)
    assert chunks[0]["object"] == "chat.completion.chunk" and chunks[0]["model"] == "bench"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    deltas = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    assert "".join(d for d in deltas if d) == "x y"
    assert chunks[-1]["usage"]["completion_tokens"] == 2


@pytest.mark.parametrize("raw", [False, True])
async def test_chunks_cross_ray_in_batches(raw: bool) -> None:
    """The role chunk and the first token leave alone, later tokens together, the finish
    and usage chunks at once: unpacked, the same stream as one chunk per item."""
    settings = EngineSettings(name="bench", kind="scripted", scripted_reply="a b c d e f")
    replica = _deployment(settings, BatchPolicy(max_delay_s=5.0, max_items=3))
    batches_of = replica.chat_stream_raw_batches if raw else replica.chat_stream_batches
    batches = [b async for b in batches_of(_request())]
    plain = [c async for c in (replica.chat_stream_raw if raw else replica.chat_stream)(_request())]

    def content(chunk: Any) -> str:
        if raw:
            return "".join(c["delta"].get("content") or "" for c in chunk["choices"])
        return "".join(c.delta.content or "" for c in chunk.choices)

    sizes = [len(b) for b in batches]
    assert sizes[:2] == [1, 1] and 3 in sizes  # role alone, first token alone, then batches
    flat = [c for b in batches for c in b]
    assert [content(c) for c in flat] == [content(c) for c in plain]
    assert len(flat) == len(plain)


async def test_a_full_slot_queue_is_rate_limited() -> None:
    """parallel slots plus max_queued_requests waiting: the next request is a 429, and a
    finished request makes room again."""
    settings = EngineSettings(
        name="bench", kind="scripted", scripted_reply="a b c", parallel=2, max_queued_requests=1
    )
    replica = _deployment(settings)
    open_streams = [replica.chat_stream_raw(_request()) for _ in range(3)]
    for stream in open_streams:
        await anext(stream)  # each holds a place until it finishes
    with pytest.raises(RateLimitedError) as info:
        await replica.chat(_request())
    assert info.value.status_code == 429 and info.value.details["in_flight"] == 3
    with pytest.raises(RateLimitedError):
        await anext(replica.chat_stream(_request()))
    [c async for c in open_streams[0]]
    assert (await replica.chat(_request())).choices[0].message.content == "a b c"
    for stream in open_streams[1:]:
        await stream.aclose()
    assert replica.in_flight == 0
