"""The workflow engine's logic: scheduling, branches, concurrency, error strategies,
retries, timeouts, inputs, iteration and run records (no model, no sandbox: test-only
node types stand in for slow or failing work)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import Field

from agents.errors import UpstreamError
from agents.workflows.context import NodeContext
from agents.workflows.engine import WorkflowEngine
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.nodes.base import BaseNode, BaseNodeData, NodeResult, Reference
from agents.workflows.nodes.registry import NodeRegistry, add_built_ins
from agents.workflows.store import InMemoryWorkflowStore
from agents.workflows.validation import compile_workflow
from agents.workflows.variables import VarType


class SleepData(BaseNodeData):
    seconds: float = Field(default=0.2)
    value: str = Field(default="")
    fail_times: int = Field(default=0, description="Fail this many calls first.")


class SleepNode(BaseNode[SleepData]):
    type = "test-sleep"
    data_model = SleepData
    calls: dict[str, int] = {}

    def output_types(self) -> dict[str, VarType]:
        return {"value": "string"}

    async def run(self, ctx: NodeContext) -> NodeResult:
        key = ctx.run_id + self.id
        SleepNode.calls[key] = SleepNode.calls.get(key, 0) + 1
        await asyncio.sleep(self.data.seconds)
        if SleepNode.calls[key] <= self.data.fail_times:
            raise UpstreamError(f"{self.id} failed on call {SleepNode.calls[key]}")
        return NodeResult(outputs={"value": self.data.value or self.id})


class ReadData(BaseNodeData):
    selector: list[str]
    accepts: list[str] | None = None


class ReadNode(BaseNode[ReadData]):
    type = "test-read"
    data_model = ReadData

    def output_types(self) -> dict[str, VarType]:
        return {"value": "any"}

    def references(self) -> list[Reference]:
        accepts = set(self.data.accepts) if self.data.accepts else None
        return [Reference(self.data.selector, "selector", accepts)]

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs={"value": ctx.pool.get(self.data.selector)})


REGISTRY = add_built_ins(NodeRegistry())
REGISTRY.add(SleepNode)
REGISTRY.add(ReadNode)
REGISTRY.freeze()


def node(node_id: str, node_type: str, parent: str | None = None, **data: Any) -> NodeSpec:
    return NodeSpec(id=node_id, type=node_type, data=data, parent_id=parent)


def edge(source: str, target: str, handle: str = "source") -> Edge:
    return Edge(source=source, target=target, source_handle=handle)


def start(*variables: dict[str, Any]) -> NodeSpec:
    return node("start", "start", variables=list(variables))


def end(**outputs: list[str]) -> NodeSpec:
    return node(
        "end", "end", outputs=[{"variable": k, "value_selector": v} for k, v in outputs.items()]
    )


async def run(spec: WorkflowSpec, inputs: dict[str, Any], store: Any = None) -> list[Any]:
    engine = WorkflowEngine(store=store)
    compiled = compile_workflow(spec, REGISTRY)
    return [event async for event in engine.run(compiled, inputs, workflow_id="wf1")]


def finished(events: list[Any]) -> Any:
    assert events[-1].type == "workflow_finished"
    return events[-1]


def node_events(events: list[Any], status: str | None = None) -> dict[str, Any]:
    return {
        e.node_id: e
        for e in events
        if e.type == "node_finished" and (status is None or e.status == status)
    }


async def test_a_chain_runs_in_order_and_ends_with_outputs() -> None:
    spec = WorkflowSpec(
        nodes=[
            start({"variable": "name", "type": "string"}),
            node(
                "greet",
                "template-transform",
                template="Hello {{ who }}!",
                variables=[{"variable": "who", "value_selector": ["start", "name"]}],
            ),
            end(greeting=["greet", "output"], name=["start", "name"]),
        ],
        edges=[edge("start", "greet"), edge("greet", "end")],
    )
    events = await run(spec, {"name": "Ada"})
    assert events[0].type == "workflow_started" and events[0].inputs == {"name": "Ada"}
    done = finished(events)
    assert done.status == "succeeded" and done.outputs == {"greeting": "Hello Ada!", "name": "Ada"}
    order = [e.node_id for e in events if e.type == "node_started"]
    assert order == ["start", "greet", "end"]
    assert node_events(events)["greet"].inputs == {"who": "Ada"}


def branching_spec() -> WorkflowSpec:
    return WorkflowSpec(
        nodes=[
            start({"variable": "n", "type": "number"}),
            node(
                "check",
                "if-else",
                cases=[
                    {
                        "case_id": "big",
                        "conditions": [
                            {
                                "variable_selector": ["start", "n"],
                                "comparison_operator": ">",
                                "value": 10,
                            }
                        ],
                    }
                ],
            ),  # fmt: skip
            node("big", "test-sleep", seconds=0, value="big"),
            node("small", "test-sleep", seconds=0, value="small"),
            node(
                "merge",
                "variable-aggregator",
                variables=[["big", "value"], ["small", "value"]],
                output_type="string",
            ),
            end(size=["merge", "output"]),
        ],
        edges=[
            edge("start", "check"),
            edge("check", "big", "big"),
            edge("check", "small", "false"),
            edge("big", "merge"),
            edge("small", "merge"),
            edge("merge", "end"),
        ],
    )


@pytest.mark.parametrize(("n", "taken", "skipped"), [(42, "big", "small"), (3, "small", "big")])
async def test_if_else_takes_one_branch_and_the_aggregator_merges(
    n: int, taken: str, skipped: str
) -> None:
    events = await run(branching_spec(), {"n": n})
    assert finished(events).outputs == {"size": taken}
    assert skipped in node_events(events, "skipped") and taken in node_events(events, "succeeded")
    assert [e.node_id for e in events if e.type == "node_started"].count("merge") == 1


async def test_independent_branches_run_concurrently() -> None:
    branches = [f"b{i}" for i in range(4)]
    spec = WorkflowSpec(
        nodes=[start()]
        + [node(b, "test-sleep", seconds=0.3) for b in branches]
        + [end(**{b: [b, "value"] for b in branches})],
        edges=[edge("start", b) for b in branches] + [edge(b, "end") for b in branches],
    )
    began = time.perf_counter()
    events = await run(spec, {})
    elapsed = time.perf_counter() - began
    assert finished(events).outputs == {b: b for b in branches}
    assert elapsed < 0.9, f"4 x 0.3 s branches took {elapsed:.2f} s: not concurrent"


def failing_spec(strategy: str, **extra: Any) -> WorkflowSpec:
    nodes = [
        start(),
        node("flaky", "test-sleep", seconds=0, fail_times=5, error_strategy=strategy, **extra),
        node("after", "test-read", selector=["flaky", "value"]),
        end(value=["after", "value"]),
    ]
    edges = [edge("start", "flaky"), edge("flaky", "after"), edge("after", "end")]
    if strategy == "fail_branch":
        nodes.append(node("rescue", "test-read", selector=["flaky", "error_message"]))
        nodes.append(node("end2", "end", outputs=[{"variable": "error",
                          "value_selector": ["rescue", "value"]}]))  # fmt: skip
        edges += [edge("flaky", "rescue", "fail-branch"), edge("rescue", "end2")]
    return WorkflowSpec(nodes=nodes, edges=edges)


async def test_error_strategy_fail_ends_the_run_with_a_typed_error() -> None:
    store = InMemoryWorkflowStore()
    events = await run(failing_spec("fail"), {}, store)
    error = next(e for e in events if e.type == "error")
    assert error.code == "upstream_error" and error.node_id == "flaky"
    assert finished(events).status == "failed"
    assert "after" not in node_events(events)
    run_record = next(iter(store.runs.values()))
    assert run_record.status == "failed" and run_record.error_code == "upstream_error"
    records = store.node_runs[run_record.id]
    assert [(r.node_id, r.status) for r in records] == [("start", "succeeded"), ("flaky", "failed")]


async def test_error_strategy_default_value_continues_with_the_defaults() -> None:
    events = await run(failing_spec("default_value", default_value={"value": "fallback"}), {})
    assert finished(events).outputs == {"value": "fallback"}
    assert node_events(events)["flaky"].status == "exception"


async def test_error_strategy_fail_branch_follows_the_fail_edge() -> None:
    events = await run(failing_spec("fail_branch"), {})
    done = finished(events)
    assert done.status == "succeeded" and "flaky failed" in done.outputs["error"]
    assert "after" in node_events(events, "skipped")


async def test_retry_then_success_and_timeouts() -> None:
    spec = WorkflowSpec(
        nodes=[
            start(),
            node(
                "flaky",
                "test-sleep",
                seconds=0,
                fail_times=2,
                retry={"max_attempts": 3, "interval_s": 0.01},
            ),
            node(
                "slow",
                "test-sleep",
                seconds=5,
                timeout_s=0.1,
                error_strategy="default_value",
                default_value={"value": "too slow"},
            ),
            end(a=["flaky", "value"], b=["slow", "value"]),
        ],  # fmt: skip
        edges=[edge("start", "flaky"), edge("flaky", "slow"), edge("slow", "end")],
    )
    events = await run(spec, {})
    assert finished(events).outputs == {"a": "flaky", "b": "too slow"}
    nodes = node_events(events)
    assert nodes["flaky"].attempts == 3 and nodes["slow"].error_code == "node_timeout"


async def test_bad_inputs_are_refused_before_any_node_runs() -> None:
    spec = WorkflowSpec(
        nodes=[start({"variable": "n", "type": "number"}, {"variable": "tag", "type": "string",
                      "required": False, "default": "none"}), end(n=["start", "n"])],
        edges=[edge("start", "end")],
    )  # fmt: skip
    for inputs, param in (
        ({}, "inputs.n"),
        ({"n": "many"}, "inputs.n"),
        ({"n": 1, "x": 2}, "inputs.x"),
    ):
        events = await run(spec, inputs)
        error = next(e for e in events if e.type == "error")
        assert error.code == "workflow_input_invalid" and error.details["param"] == param
        assert not [e for e in events if e.type == "node_started"]
    assert finished(await run(spec, {"n": "7"})).outputs == {"n": 7.0}


async def test_iteration_collects_each_step_and_bounds_parallelism() -> None:
    spec = WorkflowSpec(
        nodes=[
            start({"variable": "words", "type": "array[string]"}),
            node(
                "loop",
                "iteration",
                iterator_selector=["start", "words"],
                output_selector=["shout", "output"],
                output_type="array[string]",
                start_node_id="loop_start",
                is_parallel=True,
                parallel_nums=3,
            ),
            node("loop_start", "iteration-start", parent="loop"),
            node("nap", "test-sleep", parent="loop", seconds=0.2),
            node(
                "shout",
                "template-transform",
                parent="loop",
                template="{{ i }}:{{ w | upper }}",
                variables=[
                    {"variable": "w", "value_selector": ["loop", "item"]},
                    {"variable": "i", "value_selector": ["loop", "index"]},
                ],
            ),
            end(out=["loop", "output"]),
        ],  # fmt: skip
        edges=[
            edge("start", "loop"),
            edge("loop", "end"),
            edge("loop_start", "nap"),
            edge("nap", "shout"),
        ],
    )
    began = time.perf_counter()
    events = await run(spec, {"words": ["a", "b", "c", "d", "e", "f"]})
    elapsed = time.perf_counter() - began
    assert finished(events).outputs == {"out": ["0:A", "1:B", "2:C", "3:D", "4:E", "5:F"]}
    assert 0.35 < elapsed < 1.0, elapsed  # 6 steps of 0.2 s, 3 at a time
    steps = {
        e.iteration_index for e in events if e.type == "node_finished" and e.node_id == "shout"
    }
    assert steps == set(range(6))


def problems(spec: WorkflowSpec) -> list[tuple[str | None, str | None, str]]:
    from agents.workflows.errors import WorkflowValidationError

    with pytest.raises(WorkflowValidationError) as caught:
        compile_workflow(spec, REGISTRY)
    return [(p["node_id"], p["field"], p["message"]) for p in caught.value.problems]


def test_validation_names_the_node_and_the_field() -> None:
    found = problems(
        WorkflowSpec(
            nodes=[start(), node("x", "no-such-type"), node("t", "template-transform"), end()],
            edges=[edge("start", "end")],
        )
    )
    assert ("x", "type", "unknown node type 'no-such-type'") in found
    assert any(n == "t" and f == "data.template" for n, f, _ in found)

    two_starts = problems(WorkflowSpec(nodes=[start(), node("s2", "start"), end()],
                                       edges=[edge("start", "end")]))  # fmt: skip
    assert any("exactly one start" in m for _, _, m in two_starts)

    no_end = problems(WorkflowSpec(nodes=[start(), node("a", "test-sleep")],
                                   edges=[edge("start", "a")]))  # fmt: skip
    assert any("no end node is reachable" in m for _, _, m in no_end)

    cycle = problems(
        WorkflowSpec(
            nodes=[start(), node("a", "test-sleep"), node("b", "test-sleep"), end()],
            edges=[edge("start", "a"), edge("a", "b"), edge("b", "a"), edge("b", "end")],
        )
    )
    assert any(m.startswith("cycle:") for _, _, m in cycle)

    handle = problems(
        WorkflowSpec(
            nodes=[start(), node("a", "test-sleep"), end()],
            edges=[edge("start", "a", "yes"), edge("a", "end")],
        )
    )
    assert any(n == "start" and "no exit 'yes'" in m for n, _, m in handle)


def test_validation_checks_every_reference() -> None:
    def with_reader(selector: list[str], accepts: list[str] | None = None) -> WorkflowSpec:
        return WorkflowSpec(
            nodes=[
                start({"variable": "q", "type": "string"}),
                node("a", "test-sleep"),
                node("r", "test-read", selector=selector, accepts=accepts),
                node("later", "test-sleep"),
                end(),
            ],
            edges=[edge("start", "a"), edge("a", "r"), edge("r", "later"), edge("later", "end")],
        )

    compile_workflow(with_reader(["a", "value"]), REGISTRY)
    compile_workflow(with_reader(["start", "q"], ["string"]), REGISTRY)
    compile_workflow(with_reader(["sys", "query"]), REGISTRY)
    cases = {
        ("later", "value"): "is not upstream",
        ("ghost", "value"): "refers to no node",
        ("a", "nothing"): "has no output 'nothing'",
        ("sys", "nope"): "unknown system variable",
        ("env", "KEY"): "no environment variable",
    }
    for (owner, name), message in cases.items():
        found = problems(with_reader([owner, name]))
        assert found[0][:2] == ("r", "data.selector") and message in found[0][2], found
    typed = problems(with_reader(["start", "q"], ["array[any]"]))
    assert "start.q is string; this needs array[any]" in typed[0][2]
