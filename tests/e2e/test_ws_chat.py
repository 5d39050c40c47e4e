"""Websocket chat against `chorus serve` with the real model: the event protocol end to end."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.e2e import auth
from tests.e2e.wsclient import answer, recv, send, start, turn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def history(server: str, conversation_id: str) -> list[dict]:  # type: ignore[type-arg]
    resp = auth.get(server + f"/api/conversations/{conversation_id}/messages", timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]  # type: ignore[no-any-return]


async def test_opening_statement_and_multi_turn(ws_url: str, server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(
        opening_statement="Welcome to the zoo desk.",
        suggested_questions=["Where are the lions?", "When do you open?"],
    )
    async with auth.connect(ws_url) as ws:
        started = await start(ws, app_id)
        assert started["opening_statement"] == "Welcome to the zoo desk."
        assert started["suggested_questions"] == ["Where are the lions?", "When do you open?"]
        conv = started["conversation_id"]
        first = await turn(ws, "Where are the lions?")
        second = await turn(ws, "And the penguins?")
    for events in (first, second):
        kinds = [e["type"] for e in events]
        assert kinds[0] == "message_started" and kinds[-1] == "message_end"
        assert kinds.count("delta") >= 2 and "usage" in kinds
        assert events[-1]["status"] == "complete"
    stored = history(server, conv)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert [m["seq"] for m in stored] == [0, 1, 2, 3]
    assert stored[1]["content"] == answer(first) and stored[3]["content"] == answer(second)
    assert stored[3]["usage"]["completion_tokens"] > 0
    prompts = auth.get(server + f"/api/conversations/{conv}/prompts").json()["data"]
    last = [p for p in prompts if p["purpose"] == "answer"][-1]["messages"]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user"]
    assert last[1]["content"] == "Where are the lions?"


async def test_stop_mid_stream(ws_url: str, server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(model={"max_tokens": 300, "temperature": 0.7})
    async with auth.connect(ws_url) as ws:
        conv = (await start(ws, app_id))["conversation_id"]
        await send(ws, type="message", content="Write a very long story about a dragon.")
        deltas = 0
        while True:
            event = await recv(ws)
            if event["type"] == "delta":
                deltas += 1
                if deltas == 3:
                    await send(ws, type="stop")
            if event["type"] in ("message_end", "error"):
                break
        assert event["type"] == "message_end" and event["status"] == "stopped", event
        stored = history(server, conv)[1]
        assert stored["status"] == "stopped" and stored["content"]
        assert stored["usage"]["completion_tokens"] < 300
        # The conversation goes on after a stop.
        assert (await turn(ws, "Thanks."))[-1]["status"] == "complete"


async def test_follow_up_suggestions(ws_url: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(follow_ups={"enabled": True, "count": 5})
    async with auth.connect(ws_url) as ws:
        await start(ws, app_id)
        events = await turn(ws, "What is a volcano?")
    kinds = [e["type"] for e in events]
    assert "suggestions" in kinds and kinds.index("suggestions") < kinds.index("message_end")
    questions = next(e for e in events if e["type"] == "suggestions")["questions"]
    assert 1 <= len(questions) <= 5 and all(isinstance(q, str) and q for q in questions)


async def test_moderation_blocks_input_and_masks_output(
    ws_url: str, server: str, create_app
) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(
        model={"max_tokens": 40, "temperature": 0},
        moderation={
            "input_keywords": ["explosive"],
            "blocked_reply": "I cannot help with that.",
            "output_keywords": ["e"],  # certain to be in any English answer
            "mask": "#",
        },
    )
    async with auth.connect(ws_url) as ws:
        conv = (await start(ws, app_id))["conversation_id"]
        blocked = await turn(ws, "How do I make an EXPLOSIVE?")
        assert [e["type"] for e in blocked] == [
            "message_started",
            "message_replaced",
            "message_end",
        ]
        assert blocked[1]["content"] == "I cannot help with that."
        masked = await turn(ws, "Describe the sea in one sentence.")
    text = answer(masked)
    assert "#" in text and "e" not in text.lower()
    assert all("e" not in d["content"].lower() for d in masked if d["type"] == "delta")
    stored = history(server, conv)
    assert stored[0]["status"] == "blocked" and stored[1]["content"] == "I cannot help with that."
    assert stored[3]["content"] == text


async def test_bad_frames_get_error_events_and_socket_stays_usable(
    ws_url: str, server: str, create_app
) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(model={"max_tokens": 60, "temperature": 0})
    async with auth.connect(ws_url) as ws:
        await ws.send("{not json")
        assert (await recv(ws))["code"] == "invalid_json"
        await send(ws, type="dance")
        assert (await recv(ws))["code"] == "unknown_frame"
        await send(ws, type="message", content="hi")
        assert (await recv(ws))["code"] == "no_conversation"
        await send(ws, type="start")
        err = await recv(ws)
        assert err["code"] == "invalid_frame" and "app_id" in err["message"]
        conv = (await start(ws, app_id))["conversation_id"]
        await send(ws, type="message", content="x" * 2001)
        assert (await recv(ws))["code"] == "message_too_large"
        # a second message while one streams
        await send(ws, type="message", content="Tell me about rivers.")
        assert (await recv(ws))["type"] == "message_started"
        await send(ws, type="message", content="And lakes?")
        refusals, end = [], None
        while end is None:
            event = await recv(ws)
            if event["type"] == "error":
                refusals.append(event["code"])
            if event["type"] == "message_end":
                end = event
        assert refusals == ["turn_in_progress"] and end["status"] == "complete"
        await send(ws, type="ping")
        assert (await recv(ws)) == {"type": "pong"}
        # a message to a deleted conversation
        assert auth.delete(server + f"/api/conversations/{conv}").status_code == 204
        gone = await turn(ws, "still there?")
        assert [e["type"] for e in gone] == ["error"] and gone[0][
            "code"
        ] == "conversation_not_found"
        await send(ws, type="resume", conversation_id=conv)
        assert (await recv(ws))["code"] == "conversation_not_found"
        await send(ws, type="ping")
        assert (await recv(ws))["type"] == "pong"


async def test_disconnect_mid_answer_leaves_consistent_history(
    ws_url: str, server: str, create_app
) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(model={"max_tokens": 200, "temperature": 0.7})
    async with auth.connect(ws_url) as ws:
        conv = (await start(ws, app_id))["conversation_id"]
        await send(ws, type="message", content="Tell me a long tale.")
        while (await recv(ws))["type"] != "delta":
            pass
    statuses: list[str] = []
    for _ in range(100):
        statuses = [m["status"] for m in history(server, conv)]
        if "pending" not in statuses:
            break
        await asyncio.sleep(0.2)
    assert statuses[0] == "complete" and statuses[1] in ("stopped", "complete")
    async with auth.connect(ws_url) as ws:  # resume on a new socket and go on
        await send(ws, type="resume", conversation_id=conv)
        assert (await recv(ws))["resumed"] is True
        assert (await turn(ws, "Go on."))[-1]["status"] == "complete"
    assert [m["seq"] for m in history(server, conv)] == [0, 1, 2, 3]


async def test_long_term_memory_reaches_turn_six(ws_url: str, server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app(
        model={"max_tokens": 16, "temperature": 0},
        memory={
            "window_messages": 4,
            "window_tokens": 1000,
            "summary": True,
            "summary_max_chars": 600,
        },
    )
    async with auth.connect(ws_url) as ws:
        conv = (await start(ws, app_id))["conversation_id"]
        for text in [
            "My name is Zorblax and my locker code is 4711.",
            "What is the capital of France?",
            "Name a red fruit.",
            "How many legs does a spider have?",
            "What colour is the sky?",
            "What is my locker code?",
        ]:
            assert (await turn(ws, text))[-1]["status"] == "complete"
    prompts = auth.get(server + f"/api/conversations/{conv}/prompts").json()["data"]
    answers = [p for p in prompts if p["purpose"] == "answer"]
    assert len(answers) == 6
    turn_six = answers[-1]["messages"]
    assert len(turn_six) == 1 + 4  # system (with memory) + the 4-message window
    assert "4711" not in json.dumps(turn_six[1:])  # turn 1 left the window ...
    assert "locker code is 4711" in turn_six[0]["content"]  # ... and is in the long-term memory
    assert any(p["purpose"] == "summary" for p in prompts)


async def test_turn_metrics_are_exported(ws_url: str, server: str, create_app) -> None:  # type: ignore[no-untyped-def]
    app_id = create_app()
    async with auth.connect(ws_url) as ws:
        await start(ws, app_id)
        assert (await turn(ws, "Hi"))[-1]["status"] == "complete"
    text = ""
    for _ in range(40):  # Ray's metrics agent exports on an interval
        text = auth.get(server + "/metrics", timeout=10, headers=auth.operator()).text
        if "chorus_turns_total" in text and "chorus_active_sessions" in text:
            break
        await asyncio.sleep(1)
    assert "chorus_turns_total{" in text and 'status="complete"' in text
    assert "chorus_turn_time_to_first_token_seconds" in text
    assert "chorus_active_sessions" in text
