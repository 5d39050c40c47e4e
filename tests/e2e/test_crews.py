"""A two-agent sequential crew end to end on `chorus serve`: CrewAI talks to the local
model through the gateway's own OpenAI API, and the run streams its events as SSE."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREW = {
    "name": "tea notes",
    "inputs": ["topic"],
    "max_tokens": 40,
    "temperature": 0,
    "agents": [
        {"id": "researcher", "role": "Researcher", "goal": "Collect facts about {topic}",
         "backstory": "You note short facts.", "max_iter": 1},
        {"id": "writer", "role": "Writer", "goal": "Write one short sentence",
         "backstory": "You write plainly.", "max_iter": 1},
    ],
    "tasks": [
        {"id": "research", "description": "Give one fact about {topic}.",
         "expected_output": "One fact.", "agent": "researcher"},
        {"id": "write", "description": "Write one sentence about {topic} for a blog.",
         "expected_output": "One sentence.", "agent": "writer", "context": ["research"]},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def api(server: str) -> httpx.Client:
    return auth.client(base_url=server + "/api", timeout=300)


def test_a_two_agent_crew_runs_through_the_gateway(api: httpx.Client) -> None:
    created = api.post("/crews", json=CREW)
    assert created.status_code == 201, created.text
    crew = created.json()["id"]
    with api.stream("POST", f"/crews/{crew}/run",
                    json={"inputs": {"topic": "green tea"}, "stream": True}) as resp:  # fmt: skip
        assert resp.status_code == 200
        events: list[dict[str, Any]] = [
            json.loads(line[5:]) for line in resp.iter_lines() if line.startswith("data:")
        ]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "crew_started" and kinds[-1] == "crew_finished", kinds
    done = events[-1]
    assert done["status"] == "succeeded", [e for e in events if e["type"] == "error"]
    started = [e for e in events if e["type"] == "crew_task_started"]
    assert [e["task_id"] for e in started] == ["research", "write"]
    finished = [e for e in events if e["type"] == "crew_task_finished"]
    assert [e["status"] for e in finished] == ["succeeded", "succeeded"]
    research = done["outputs"]["research"]
    assert research and done["outputs"]["write"] and done["final_output"]
    assert research in json.dumps(started[1]["context"], ensure_ascii=False)  # the writer saw it
    steps = [e for e in events if e["type"] == "crew_agent_step"]
    assert {s["agent_id"] for s in steps} >= {"researcher", "writer"}
    assert done["total_tokens"] > 0
    run = api.get(f"/crews/runs/{done['run_id']}").json()
    assert run["status"] == "succeeded"

    bad = dict(CREW, tasks=[dict(CREW["tasks"][0], agent="ghost")])  # type: ignore[arg-type]
    refused = api.post("/crews", json=bad)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "tasks.0.agent"
    missing = api.post(f"/crews/{crew}/run", json={"inputs": {}})
    assert missing.status_code == 400


async def test_a_crew_runs_from_chat_as_an_apps_skill(
    api: httpx.Client, ws_url: str, create_app
) -> None:  # type: ignore[no-untyped-def]

    from tests.e2e.wsclient import start, turn

    crew = api.post("/crews", json=CREW).json()["id"]
    app = create_app(
        crews=[crew],
        # one step: the crew's result is the point here (that results reach the model is
        # tested in tests/integration/test_planner_model.py); the turn then ends by the
        # step limit's message
        planner={"max_steps": 1, "first_tool_choice": "required"},
        # room for a long argument: a call cut off by max_tokens is no call at all
        model={"max_tokens": 256, "temperature": 0},
    )
    async with auth.connect(ws_url) as ws:
        await start(ws, app)
        events = await turn(ws, "Write about green tea.", timeout=300)
    calls = [e for e in events if e["type"] == "tool_call"]
    results = [e for e in events if e["type"] == "tool_result"]
    assert calls and calls[0]["name"].startswith("crew_tea_notes_"), events
    assert isinstance(calls[0]["arguments"].get("topic"), str)
    assert results[0]["ok"], results[0]
    assert results[0]["result"]["final_output"] and set(results[0]["result"]["outputs"]) == {
        "research",
        "write",
    }
    errors = [e for e in events if e["type"] == "error"]
    assert events[-1]["type"] == "message_end" and events[-1]["status"] == "complete", errors
