"""Workflows: engine overhead per node, and code-node start latency.

- chain: a start node, ``--chain`` no-op template-transform nodes in a line (each
  renders a constant), an end node. The engine's time per node minus the same nodes'
  ``run()`` called directly one after the other (the baseline, same process, same
  run) is the engine's overhead per node: scheduling, events, records, variable pool;
- fan-out: start -> ``--fan`` parallel no-op template nodes -> a variable aggregator
  reading all of them -> end; overhead per node the same way;
- with a store: the chain again with the in-memory run store (records per node);
- code: a trivial Python and JavaScript code node run in the sandbox (``--code-runs``
  times each): median and p90 wall time of one node, vs the bare interpreter started
  with ``subprocess`` (python3 -c pass / node -e 0) as the baseline.

Runs are interleaved and repeated (``--repeats``), medians reported. Prints one JSON
object on stdout. Usage: python benchmarks/workflows.py [--chain 100] [--fan 20]
[--repeats 30] [--code-runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.workflows.context import NodeContext, WorkflowServices  # noqa: E402
from agents.workflows.engine import WorkflowEngine  # noqa: E402
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec  # noqa: E402
from agents.workflows.store import InMemoryWorkflowStore  # noqa: E402
from agents.workflows.validation import CompiledWorkflow, compile_workflow  # noqa: E402
from agents.workflows.variable_pool import VariablePool  # noqa: E402
from cluster.log_config import configure_logging  # noqa: E402

GOAL_MS_PER_NODE = 1.0


def noop(node_id: str) -> NodeSpec:
    return NodeSpec(id=node_id, type="template-transform", data={"template": "ok"})


def chain_spec(n: int) -> WorkflowSpec:
    ids = [f"t{i}" for i in range(n)]
    nodes = [NodeSpec(id="start", type="start", data={})] + [noop(i) for i in ids]
    nodes.append(
        NodeSpec(
            id="end",
            type="end",
            data={"outputs": [{"variable": "last", "value_selector": [ids[-1], "output"]}]},
        )
    )
    path = ["start", *ids, "end"]
    edges = [Edge(source=a, target=b) for a, b in zip(path, path[1:], strict=False)]
    return WorkflowSpec(nodes=nodes, edges=edges)


def fan_spec(n: int) -> WorkflowSpec:
    ids = [f"t{i}" for i in range(n)]
    nodes = [NodeSpec(id="start", type="start", data={})] + [noop(i) for i in ids]
    nodes.append(
        NodeSpec(
            id="merge",
            type="variable-aggregator",
            data={"variables": [[i, "output"] for i in ids], "output_type": "string"},
        )
    )
    nodes.append(
        NodeSpec(
            id="end",
            type="end",
            data={"outputs": [{"variable": "any", "value_selector": ["merge", "output"]}]},
        )
    )
    edges = [Edge(source="start", target=i) for i in ids]
    edges += [Edge(source=i, target="merge") for i in ids] + [Edge(source="merge", target="end")]
    return WorkflowSpec(nodes=nodes, edges=edges)


async def engine_once(compiled: CompiledWorkflow, store: Any = None) -> float:
    engine = WorkflowEngine(store=store)
    started = time.perf_counter()
    last = None
    async for event in engine.run(compiled, {}):
        last = event
    elapsed = time.perf_counter() - started
    assert last is not None and last.type == "workflow_finished" and last.status == "succeeded"
    return elapsed


async def direct_once(compiled: CompiledWorkflow) -> float:
    """The same nodes' run() one after another, no engine (the baseline)."""
    pool = VariablePool()

    async def no_delta(node_id: str, text: str) -> None:
        return None

    order = [n for n in compiled.nodes.values()]
    started = time.perf_counter()
    for node in order:
        ctx = NodeContext(pool, WorkflowServices(), "r", "w", node.id, no_delta)
        result = await node.run(ctx)
        pool.set_outputs(node.id, result.outputs)
    return time.perf_counter() - started


async def measure_graph(spec: WorkflowSpec, repeats: int) -> dict[str, Any]:
    compiled = compile_workflow(spec)
    nodes = len(compiled.nodes)
    engine, direct, stored = [], [], []
    for _ in range(3):  # warm up
        await engine_once(compiled)
        await direct_once(compiled)
    for _ in range(repeats):
        engine.append(await engine_once(compiled))
        direct.append(await direct_once(compiled))
        stored.append(await engine_once(compiled, InMemoryWorkflowStore()))
    e, d, s = (statistics.median(x) * 1000 for x in (engine, direct, stored))
    return {
        "nodes": nodes,
        "engine_ms": round(e, 2),
        "direct_ms": round(d, 2),
        "engine_with_store_ms": round(s, 2),
        "overhead_ms_per_node": round((e - d) / nodes, 4),
        "overhead_ms_per_node_with_store": round((s - d) / nodes, 4),
        "ratio_engine_to_direct": round(e / d, 2) if d else None,
    }


async def measure_code(runs: int) -> dict[str, Any]:
    from agents.sandbox import CodeSandbox

    sandbox = CodeSandbox()
    if not sandbox.available():
        return {"skipped": "this machine cannot isolate code (see docs/security.md)"}
    out: dict[str, Any] = {}
    programs = {
        "python3": (
            "def main(x):\n    return {'y': x + 1}\n",
            [sys.executable, "-I", "-S", "-c", ""],
        ),
        "javascript": ("function main({x}) { return {y: x + 1}; }", ["node", "-e", "0"]),
    }
    for language, (code, bare) in programs.items():
        node_ms, bare_ms = [], []
        await sandbox.run(language, code, {"x": 1})  # type: ignore[arg-type]
        for _ in range(runs):
            started = time.perf_counter()
            result = await sandbox.run(language, code, {"x": 1})  # type: ignore[arg-type]
            node_ms.append((time.perf_counter() - started) * 1000)
            assert result.result == {"y": 2}
            started = time.perf_counter()
            subprocess.run(bare, check=True, env={}, capture_output=True)
            bare_ms.append((time.perf_counter() - started) * 1000)
        node_ms.sort()
        out[language] = {
            "sandboxed_p50_ms": round(statistics.median(node_ms), 1),
            "sandboxed_p90_ms": round(node_ms[int(len(node_ms) * 0.9) - 1], 1),
            "bare_interpreter_p50_ms": round(statistics.median(bare_ms), 1),
            "ratio_to_bare": round(statistics.median(node_ms) / statistics.median(bare_ms), 2),
        }
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chain", type=int, default=100)
    parser.add_argument("--fan", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--code-runs", type=int, default=20)
    args = parser.parse_args()
    configure_logging("WARNING")  # logs to stderr; stdout is the JSON result
    started = time.perf_counter()
    chain = await measure_graph(chain_spec(args.chain), args.repeats)
    fan = await measure_graph(fan_spec(args.fan), args.repeats)
    code = await measure_code(args.code_runs)
    report = {
        "benchmark": "workflows",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "args": vars(args),
        "chain": chain,
        "fan_out_in": fan,
        "code_node": code,
        "goal": {"overhead_ms_per_noop_node": f"<= {GOAL_MS_PER_NODE}"},
        "goal_met": max(chain["overhead_ms_per_node"], fan["overhead_ms_per_node"])
        <= GOAL_MS_PER_NODE,
        "total_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
