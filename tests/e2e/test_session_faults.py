"""Killing the shard actor that owns a conversation: between turns and mid-stream."""

from __future__ import annotations

import asyncio

import pytest
import ray

from cluster.sessions.rendezvous import owner
from cluster.sessions.session_router import shard_names
from cluster.sessions.session_shard import NAMESPACE
from tests.e2e import auth
from tests.e2e.wsclient import recv, send, start, turn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SHARDS = 2  # the server's default session_shards


def kill_owner(conversation_id: str) -> None:
    actor = ray.get_actor(owner(conversation_id, shard_names(SHARDS)), namespace=NAMESPACE)
    ray.kill(actor, no_restart=False)


def history(server: str, conversation_id: str) -> list[dict]:  # type: ignore[type-arg]
    return auth.get(server + f"/api/conversations/{conversation_id}/messages").json()["data"]  # type: ignore[no-any-return]


async def test_shard_killed_between_turns_and_mid_stream(
    server_cluster: None,
    ws_url: str,
    server: str,
    create_app,  # type: ignore[no-untyped-def]
) -> None:
    app_id = create_app(model={"max_tokens": 200, "temperature": 0.7})
    async with auth.connect(ws_url) as ws:
        conv = (await start(ws, app_id))["conversation_id"]
        assert (await turn(ws, "My favourite colour is teal."))[-1]["status"] == "complete"

        kill_owner(conv)  # between turns
        events = await turn(ws, "And I live in Oslo.")
        assert events[-1].get("status") == "complete", events
        after_restart = history(server, conv)
        assert [m["seq"] for m in after_restart] == [0, 1, 2, 3]
        assert after_restart[0]["content"] == "My favourite colour is teal."

        await send(ws, type="message", content="Tell me a long story about the sea.")
        deltas = 0
        while True:  # mid-stream
            event = await recv(ws)
            if event["type"] == "delta":
                deltas += 1
                if deltas == 3:
                    kill_owner(conv)
            if event["type"] in ("message_end", "error"):
                break
        assert event["type"] == "error" and event["code"] == "session_interrupted"

        final = await turn(ws, "What did I tell you?")
        assert final[-1].get("status") == "complete", final

    stored = history(server, conv)
    assert [m["seq"] for m in stored] == list(range(8))  # nothing lost, nothing twice
    assert [m["role"] for m in stored] == ["user", "assistant"] * 4
    interrupted = stored[5]
    assert interrupted["status"] == "failed" and interrupted["error"]["code"] == "interrupted"
    assert all(m["status"] == "complete" for i, m in enumerate(stored) if i != 5)
    prompts = auth.get(server + f"/api/conversations/{conv}/prompts").json()["data"]
    last = [p for p in prompts if p["purpose"] == "answer"][-1]["messages"]
    said = [m["content"] for m in last if m["role"] == "user"]
    assert said[:2] == ["My favourite colour is teal.", "And I live in Oslo."]
    assert said[-1] == "What did I tell you?"


async def test_two_hundred_concurrent_conversations(ws_url: str, server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    # 600 turns share one CPU model: a turn may wait behind every other client's.
    app_id = create_app(model={"max_tokens": 1, "temperature": 0})

    async def converse(i: int) -> str:
        async with auth.connect(ws_url, open_timeout=300, ping_timeout=None) as ws:
            conv = (await start(ws, app_id))["conversation_id"]
            for t in range(3):
                events = await turn(ws, f"client {i} turn {t}", timeout=900)
                assert events[-1]["type"] == "message_end", events[-1]
                assert events[-1]["status"] == "complete", events[-1]
            return str(conv)

    conversations = await asyncio.gather(*(converse(i) for i in range(200)))
    assert len(set(conversations)) == 200
    for i, conv in enumerate(conversations):
        stored = history(server, conv)
        assert [m["content"] for m in stored if m["role"] == "user"] == [
            f"client {i} turn {t}" for t in range(3)
        ]
        assert [m["status"] for m in stored] == ["complete"] * 6
