"""Crew start-up time, for benchmarks/agents.py.

A stub OpenAI-compatible endpoint on 127.0.0.1 answers every chat completion at once
with a fixed reply and records when each request arrives. Measured, ``runs`` times:

- ``import``: a fresh interpreter importing our crew runner (CrewAI and its
  dependencies) vs one starting with nothing imported (the baseline);
- ``first_request``: from ``CrewService.run`` being called on a two-agent sequential
  crew to the stub receiving CrewAI's first model request (building the LLM, agents,
  tasks, the event bridge, the kickoff thread), in a process where CrewAI is already
  imported; the baseline is a bare ``openai`` client's first request to the same stub;
- ``whole_run``: the crew's run to ``crew_finished`` against the stub (two model calls).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARRIVALS: list[float] = []

REPLY = {
    "id": "chatcmpl-stub",
    "object": "chat.completion",
    "created": 0,
    "model": "stub",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Thought: done\nFinal Answer: A fact."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
}


class _Stub(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        ARRIVALS.append(time.perf_counter())
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps(REPLY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


CREW = {
    "name": "bench",
    "inputs": ["topic"],
    "agents": [
        {"id": "a", "role": "Researcher", "goal": "Facts on {topic}", "backstory": "B",
         "max_iter": 1},
        {"id": "b", "role": "Writer", "goal": "One sentence", "backstory": "B", "max_iter": 1},
    ],
    "tasks": [
        {"id": "t1", "description": "A fact about {topic}.", "expected_output": "A fact.",
         "agent": "a"},
        {"id": "t2", "description": "A sentence on {topic}.", "expected_output": "A sentence.",
         "agent": "b", "context": ["t1"]},
    ],
}  # fmt: skip


def _import_times(runs: int) -> dict[str, float]:
    def timed(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return (time.perf_counter() - started) * 1000

    crew = [
        timed(
            "from cluster.crews.offline import keep_crewai_offline; keep_crewai_offline(); "
            "import cluster.crews.crew_runner"
        )
        for _ in range(runs)
    ]
    bare = [timed("pass") for _ in range(runs)]
    return {
        "import_crewai_ms": round(statistics.median(crew), 1),
        "bare_interpreter_ms": round(statistics.median(bare), 1),
    }


async def crew_startup(runs: int) -> dict[str, Any]:
    import openai

    from agents.crews import records
    from agents.crews.service import CrewService
    from agents.crews.spec import parse_crew_spec
    from agents.repository import InMemoryRunRepository
    from agents.tools.registry import ToolRegistry
    from cluster.runtime import lazy_runner

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        registry = ToolRegistry().freeze()

        async def tools_for(workspace: str) -> ToolRegistry:
            return registry

        service = CrewService(
            InMemoryRunRepository(records.CREW),
            runner=lazy_runner(url),
            default_model="stub",
            tools_for=tools_for,
        )
        crew = await service.create("ws", parse_crew_spec(CREW))
        first, whole, base = [], [], []
        for i in range(runs + 1):
            ARRIVALS.clear()
            started = time.perf_counter()
            result = await service.run_to_end("ws", crew.id, {"topic": "tea"})
            ended = time.perf_counter()
            if result.get("status") != "succeeded":
                return {"error": result.get("error")}
            client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="x")
            ARRIVALS.append(0.0)
            arrived_before = len(ARRIVALS)
            bare_started = time.perf_counter()
            await client.chat.completions.create(
                model="stub", messages=[{"role": "user", "content": "hi"}]
            )
            await client.close()
            if i == 0:
                continue  # warm-up (first CrewAI run in the process)
            crew_first = next(t for t in ARRIVALS if t > started)
            first.append((crew_first - started) * 1000)
            whole.append((ended - started) * 1000)
            base.append((ARRIVALS[arrived_before] - bare_started) * 1000)
        return {
            **_import_times(runs),
            "first_request_ms": round(statistics.median(first), 1),
            "bare_openai_first_request_ms": round(statistics.median(base), 1),
            "whole_run_ms": round(statistics.median(whole), 1),
            "runs": runs,
        }
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(crew_startup(3)), indent=2))
