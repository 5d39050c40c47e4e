"""A shard killed around a turn's first write (the question and its pending answer, one
transaction): the turn is complete, or its answer is stored as failed; never a question
without an answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e import auth
from tests.e2e.test_session_faults import history, kill_owner
from tests.e2e.wsclient import recv, send, start, turn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_shard_killed_at_the_first_write_leaves_no_orphan_question(
    server_cluster: None, ws_url: str, server: str, create_app: Any
) -> None:
    app_id = create_app(model={"model": "scripted-slow", "max_tokens": 64})
    async with auth.connect(ws_url) as ws:
        conv = (await start(ws, app_id))["conversation_id"]
        # as the message leaves (before, during or just after the write), then as soon
        # as the write is done (message_started: the model has not answered yet)
        for kill_on in (None, "message_started"):
            await send(ws, type="message", content=f"kill on {kill_on}")
            if kill_on is None:
                await asyncio.sleep(0.005)
                kill_owner(conv)
            while True:
                event = await recv(ws)
                if event["type"] == kill_on:
                    kill_owner(conv)
                if event["type"] == "message_end" or (
                    event["type"] == "error" and event["code"] == "session_interrupted"
                ):
                    break
        assert (await turn(ws, "still here?"))[-1]["status"] == "complete"  # reloads

    stored = history(server, conv)
    assert [m["seq"] for m in stored] == list(range(len(stored)))
    turns = [stored[i : i + 2] for i in range(0, len(stored), 2)]
    for question, answer in turns:
        assert (question["role"], answer["role"]) == ("user", "assistant"), stored
        assert question["turn_id"] == answer["turn_id"] and question["status"] == "complete"
        assert answer["status"] == "complete" or (
            answer["status"] == "failed" and answer["error"]["code"] == "interrupted"
        ), answer
    assert [q["content"] for q, _ in turns][-1] == "still here?"
    assert turns[-1][1]["status"] == "complete"
