"""The planner's loop with a scripted engine: one call, parallel calls, errors fed back
to the model, the step limit, repeated calls, and the JSON-schema fallback."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from agents.engine import ChatMessage
from agents.planner import STEP_LIMIT_REPLY, Planner, PlannerOutput
from agents.scripted_engine import ScriptedEngine, ScriptedReply
from agents.tools.base import BaseTool, ToolError
from agents.tools.builtin import CalculatorTool, CurrentTimeTool


class SlowTool(BaseTool):
    name = "slow"
    description = "Sleeps."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {"seconds": {"type": "number"}},
        "required": ["seconds"],
    }

    def __init__(self, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self.calls = 0

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(arguments["seconds"])
        return {"slept": arguments["seconds"]}


class BrokenTool(BaseTool):
    name = "broken"
    description = "Always fails."

    async def run(self, arguments: dict[str, Any]) -> Any:
        raise ToolError("the backend is down")


async def collect(planner: Planner, question: str = "q") -> list[PlannerOutput]:
    messages = [
        ChatMessage(role="system", content="sys"),
        ChatMessage(role="user", content=question),
    ]
    return [o async for o in planner.run(messages, conversation_id="c1", message_id="m1")]


def text(outputs: list[PlannerOutput]) -> str:
    return "".join(o.text for o in outputs if o.kind == "text")


def events(outputs: list[PlannerOutput], kind: str) -> list[Any]:
    return [o.event for o in outputs if o.kind == "event" and o.event.type == kind]  # type: ignore[union-attr]


async def test_a_single_call_and_its_result_reach_the_model() -> None:
    engine = ScriptedEngine(
        [ScriptedReply(tool_calls=[("calculator", {"expression": "6 * 7"})]), "It is 42."]
    )
    out = await collect(Planner(engine, "m", [CalculatorTool()]))
    assert text(out) == "It is 42."
    call, result = events(out, "tool_call")[0], events(out, "tool_result")[0]
    assert (
        call.name == "calculator" and call.arguments == {"expression": "6 * 7"} and call.step == 1
    )
    assert result.ok and result.result == {"expression": "6 * 7", "result": 42}
    assert result.call_id == call.call_id
    second = engine.requests[1].messages
    assert second[-2].role == "assistant" and second[-2].tool_calls[0].function.name == "calculator"
    assert second[-1].role == "tool" and json.loads(second[-1].content)["result"]["result"] == 42
    assert [t.function.name for t in engine.requests[0].tools] == ["calculator"]


async def test_parallel_calls_run_concurrently() -> None:
    slow = SlowTool()
    engine = ScriptedEngine(
        [ScriptedReply(tool_calls=[("slow", {"seconds": 0.3}), ("slow", {"seconds": 0.31}),
                                   ("slow", {"seconds": 0.32})]), "done"]
    )  # fmt: skip
    began = time.perf_counter()
    out = await collect(Planner(engine, "m", [slow]))
    assert time.perf_counter() - began < 0.8
    assert slow.calls == 3 and len(events(out, "tool_result")) == 3
    assert len([m for m in engine.requests[1].messages if m.role == "tool"]) == 3


async def test_errors_go_back_to_the_model_as_results() -> None:
    engine = ScriptedEngine(
        [
            ScriptedReply(
                tool_calls=[
                    ("no_such_tool", {}),
                    ("calculator", {"expr": "1+1"}),
                    ("broken", {}),
                    ("slow", {"seconds": 5}),
                ]
            ),
            "Sorry, the tools failed.",
        ]
    )
    out = await collect(Planner(engine, "m", [CalculatorTool(), BrokenTool(), SlowTool(0.1)]))
    results = {r.name: r for r in events(out, "tool_result")}
    assert not any(r.ok for r in results.values())
    assert results["no_such_tool"].error["code"] == "tool_not_found"
    assert "calculator" in results["no_such_tool"].error["message"]
    assert results["calculator"].error["code"] == "tool_arguments_invalid"
    assert results["broken"].error == {"code": "tool_failed", "message": "the backend is down"}
    assert results["slow"].error["code"] == "timeout"
    fed_back = [json.loads(m.content) for m in engine.requests[1].messages if m.role == "tool"]
    assert all("error" in body for body in fed_back)
    assert text(out) == "Sorry, the tools failed."


async def test_the_step_limit_ends_a_loop_with_a_clear_message() -> None:
    engine = ScriptedEngine(
        [ScriptedReply(tool_calls=[("current_time", {"timezone": "Asia/Shanghai"})])]
    )
    out = await collect(Planner(engine, "m", [CurrentTimeTool()], max_steps=3))
    assert text(out) == STEP_LIMIT_REPLY.format(steps=3)
    assert len(engine.requests) == 3 and len(events(out, "tool_call")) == 3
    results = events(out, "tool_result")
    assert results[0].result["timezone"] == "Asia/Shanghai"
    assert results[1].result["repeated"] is True  # the same call is not run again


async def test_usage_of_every_model_call_is_reported() -> None:
    engine = ScriptedEngine([ScriptedReply(tool_calls=[("calculator", {"expression": "1"})]), "1"])
    out = await collect(Planner(engine, "m", [CalculatorTool()]))
    assert len([o for o in out if o.kind == "usage"]) == 2


async def test_json_schema_mode_for_engines_without_tools() -> None:
    engine = ScriptedEngine(
        [json.dumps({"tool": "calculator", "arguments": {"expression": "2 ** 10"}}),
         json.dumps({"answer": "1024"})]
    )  # fmt: skip
    out = await collect(Planner(engine, "m", [CalculatorTool()], mode="json_schema"))
    assert text(out) == "1024"
    assert events(out, "tool_result")[0].result["result"] == 1024
    first = engine.requests[0]
    assert first.tools is None and first.response_format.type == "json_schema"
    schema = first.response_format.json_schema.schema_
    assert {"enum": ["calculator"]} in [b["properties"].get("tool") for b in schema["anyOf"]]
    assert "calculator" in first.messages[0].content  # the tools are described
    assert "Result of calculator" in engine.requests[1].messages[-1].content
