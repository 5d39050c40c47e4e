"""Parallel branches really overlap: three sandboxed code nodes that each sleep 1 s."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agents.sandbox import CodeSandbox
from agents.sandbox.code_runner import SandboxCodeRunner
from agents.workflows.context import WorkflowServices
from agents.workflows.engine import WorkflowEngine
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.validation import compile_workflow

SLEEP = "import time\ndef main(n):\n    time.sleep(1)\n    return {'n': n * 10}\n"


@pytest.mark.skipif(
    not CodeSandbox.available(),
    reason="this machine cannot isolate code (the sandbox needs root and unshare namespaces, "
    "see docs/security.md)",
)
async def test_sleeping_code_branches_run_concurrently(tmp_path: Path) -> None:
    branches = ["a", "b", "c"]
    start = {"variables": [{"variable": "n", "type": "number"}]}
    nodes = [NodeSpec(id="start", type="start", data=start)]
    for b in branches:
        nodes.append(
            NodeSpec(
                id=b,
                type="code",
                data={
                    "code": SLEEP,
                    "variables": [{"variable": "n", "value_selector": ["start", "n"]}],
                    "outputs": {"n": {"type": "number"}},
                },
            )
        )
    nodes.append(
        NodeSpec(
            id="end",
            type="end",
            data={"outputs": [{"variable": b, "value_selector": [b, "n"]} for b in branches]},
        )
    )
    edges = [Edge(source="start", target=b) for b in branches]
    edges += [Edge(source=b, target="end") for b in branches]
    compiled = compile_workflow(WorkflowSpec(nodes=nodes, edges=edges))
    runner = SandboxCodeRunner(CodeSandbox(scratch_root=tmp_path))
    engine = WorkflowEngine(WorkflowServices(code=runner))
    began = time.perf_counter()
    events = [e async for e in engine.run(compiled, {"n": 4})]
    elapsed = time.perf_counter() - began
    assert events[-1].status == "succeeded" and events[-1].outputs == {"a": 40, "b": 40, "c": 40}
    assert elapsed < 2.5, f"three 1 s code nodes took {elapsed:.2f} s: not concurrent"
