"""Agents: planner overhead per step, and crew start-up time.

- planner: a scripted engine (no delay) asks for a no-op tool ``--steps`` times, then
  answers; the planner's time per step minus the same work done by hand — the engine's
  stream consumed and the tool called directly, step by step (the baseline, same run) —
  is the planner's overhead per step: building requests and tool definitions, merging
  streamed tool calls, argument checks, events, feeding results back. Also with
  ``--parallel`` calls per step.
- crew: the time from ``CrewRunner`` receiving a two-agent sequential crew to CrewAI
  sending its first model request (start-up: importing CrewAI, building agents, tasks,
  the LLM and the event bridge), against a bare ``openai`` client's first request to the
  same local stub endpoint (the baseline); and CrewAI's one-time import cost.

Prints one JSON object on stdout. Usage: python benchmarks/agents.py [--steps 20]
[--parallel 4] [--repeats 30] [--crew-runs 3] [--skip-crew]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.engine import ChatMessage, ChatRequest  # noqa: E402
from agents.planner import Planner  # noqa: E402
from agents.scripted_engine import ScriptedEngine, ScriptedReply  # noqa: E402
from agents.tools.base import BaseTool  # noqa: E402
from cluster.log_config import configure_logging  # noqa: E402


class NoopTool(BaseTool):
    name = "noop"
    description = "Does nothing."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
    }

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"n": arguments["n"]}


def script(steps: int, parallel: int) -> list[ScriptedReply | str]:
    replies: list[ScriptedReply | str] = [
        ScriptedReply(tool_calls=[("noop", {"n": s * 100 + p}) for p in range(parallel)])
        for s in range(steps)
    ]
    return [*replies, "done"]


MESSAGES = [ChatMessage(role="system", content="s"), ChatMessage(role="user", content="q")]


async def planner_once(steps: int, parallel: int) -> float:
    engine = ScriptedEngine(script(steps, parallel))
    planner = Planner(engine, "m", [NoopTool()], max_steps=steps + 1)
    started = time.perf_counter()
    async for _ in planner.run(list(MESSAGES), conversation_id="c", message_id="m"):
        pass
    return time.perf_counter() - started


async def baseline_once(steps: int, parallel: int) -> float:
    """The same engine calls and tool calls, without the planner."""
    engine = ScriptedEngine(script(steps, parallel))
    tool = NoopTool()
    started = time.perf_counter()
    for s in range(steps + 1):
        request = ChatRequest(model="m", messages=MESSAGES, stream=True)
        async for _ in engine.chat_stream(request):
            pass
        if s < steps:
            await asyncio.gather(*(tool.run({"n": p}) for p in range(parallel)))
    return time.perf_counter() - started


async def measure_planner(steps: int, parallel: int, repeats: int) -> dict[str, Any]:
    for _ in range(3):
        await planner_once(steps, parallel)
        await baseline_once(steps, parallel)
    planned, base = [], []
    for _ in range(repeats):
        planned.append(await planner_once(steps, parallel))
        base.append(await baseline_once(steps, parallel))
    p, b = statistics.median(planned) * 1000, statistics.median(base) * 1000
    return {
        "steps": steps,
        "calls_per_step": parallel,
        "planner_ms": round(p, 2),
        "baseline_ms": round(b, 2),
        "overhead_ms_per_step": round((p - b) / steps, 3),
        "ratio": round(p / b, 2) if b else None,
    }


async def measure_crew(runs: int) -> dict[str, Any]:
    """Crew start-up against a stub OpenAI-compatible endpoint on loopback."""
    from benchmarks.crew_startup import crew_startup  # noqa: PLC0415 - needs CrewAI

    return await crew_startup(runs)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--crew-runs", type=int, default=3)
    parser.add_argument("--skip-crew", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")  # logs to stderr; stdout is the JSON result
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "agents",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "args": vars(args),
        "planner_sequential": await measure_planner(args.steps, 1, args.repeats),
        "planner_parallel": await measure_planner(args.steps, args.parallel, args.repeats),
    }
    if not args.skip_crew:
        report["crew"] = await measure_crew(args.crew_runs)
    report["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
