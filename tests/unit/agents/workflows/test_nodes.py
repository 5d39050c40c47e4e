"""Behaviour of the non-LLM node types, each run directly with a context."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from agents.errors import ChorusError
from agents.errors import TimeoutError as ChorusTimeout
from agents.workflows.context import NodeContext, ServiceMissingError, WorkflowServices
from agents.workflows.errors import NodeError
from agents.workflows.graph import NodeSpec
from agents.workflows.nodes.code.node import CodeNode
from agents.workflows.nodes.http_request.node import HttpRequestNode
from agents.workflows.nodes.if_else.node import IfElseNode, holds
from agents.workflows.nodes.template_transform.node import TemplateTransformNode
from agents.workflows.nodes.variable_aggregator.node import VariableAggregatorNode
from agents.workflows.variable_pool import VariablePool


def ctx(pool: VariablePool, **services: Any) -> NodeContext:
    async def no_delta(node_id: str, text: str) -> None:
        return None

    return NodeContext(
        pool=pool,
        services=WorkflowServices(**services),
        run_id="run1",
        workflow_id="wf1",
        node_id="n",
        emit_delta=no_delta,
    )


def build(cls: Any, **data: Any) -> Any:
    return cls(NodeSpec(id="n", type=cls.type, data=data), cls.data_model.model_validate(data))


def pool_with(**nodes: dict[str, Any]) -> VariablePool:
    pool = VariablePool(system={"query": "hello"})
    for node_id, outputs in nodes.items():
        pool.set_outputs(node_id, outputs)
    return pool


@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("contains", "hello world", "world", True),
        ("contains", ["a", "b"], "b", True),
        ("not contains", ["a"], "b", True),
        ("start with", "hello", "he", True),
        ("end with", "hello", "lo", True),
        ("is", "x", "x", True),
        ("is not", "x", "y", True),
        ("empty", "", None, True),
        ("empty", [], None, True),
        ("not empty", [0], None, True),
        ("null", None, None, True),
        ("not null", 0, None, True),
        ("=", 3, "3", True),
        ("≠", 3, 4, True),
        (">", 10, 9.5, True),
        ("<", "2", 3, True),
        ("≥", 3, 3, True),
        ("≤", 4, 3, False),
        ("in", "b", ["a", "b"], True),
        ("not in", "c", ["a", "b"], True),
        ("all of", ["a", "b", "c"], ["a", "c"], True),
        ("all of", ["a"], ["a", "c"], False),
        (">", None, 1, False),
    ],
)
def test_conditions(op: str, actual: Any, expected: Any, result: bool) -> None:
    assert holds(op, actual, expected) is result


async def test_if_else_cases_and_or_and_template_values() -> None:
    node = build(
        IfElseNode,
        cases=[
            {"case_id": "both", "logical_operator": "and", "conditions": [
                {"variable_selector": ["a", "n"], "comparison_operator": ">", "value": 5},
                {"variable_selector": ["a", "s"], "comparison_operator": "is",
                 "value": "{{#b.want#}}"}]},
            {"case_id": "either", "logical_operator": "or", "conditions": [
                {"variable_selector": ["a", "n"], "comparison_operator": ">", "value": 100},
                {"variable_selector": ["a", "s"], "comparison_operator": "not empty"}]},
        ],
    )  # fmt: skip
    assert node.handles() == ["both", "either", "false"]
    r = await node.run(ctx(pool_with(a={"n": 7, "s": "yes"}, b={"want": "yes"})))
    assert r.handle == "both" and r.outputs == {"result": True, "selected_case_id": "both"}
    r = await node.run(ctx(pool_with(a={"n": 7, "s": "no"}, b={"want": "yes"})))
    assert r.handle == "either"
    r = await node.run(ctx(pool_with(a={"n": 1, "s": ""}, b={"want": "yes"})))
    assert r.handle == "false"
    with pytest.raises(NodeError) as caught:
        await node.run(ctx(pool_with(a={"n": "lots", "s": ""}, b={})))
    assert caught.value.code == "condition_type_error"


async def test_template_transform_is_sandboxed() -> None:
    node = build(
        TemplateTransformNode,
        template="{% for x in items %}{{ x.name }};{% endfor %}",
        variables=[{"variable": "items", "value_selector": ["a", "list"]}],
    )
    r = await node.run(ctx(pool_with(a={"list": [{"name": "p"}, {"name": "q"}]})))
    assert r.outputs == {"output": "p;q;"}
    escape = build(
        TemplateTransformNode,
        template="{{ x.__class__.__mro__[1].__subclasses__() }}",
        variables=[{"variable": "x", "value_selector": ["a", "s"]}],
    )
    with pytest.raises(NodeError) as caught:
        await escape.run(ctx(pool_with(a={"s": "text"})))
    assert caught.value.code == "template_error"
    with pytest.raises(ValueError, match="does not parse"):
        build(TemplateTransformNode, template="{% for %}")


async def test_aggregator_takes_the_first_value_per_group() -> None:
    single = build(VariableAggregatorNode, variables=[["a", "x"], ["b", "x"]])
    assert (await single.run(ctx(pool_with(b={"x": 2})))).outputs == {"output": 2}
    grouped = build(
        VariableAggregatorNode,
        groups=[
            {"group_name": "text", "output_type": "string", "variables": [["a", "t"], ["b", "t"]]},
            {"group_name": "num", "output_type": "number", "variables": [["a", "n"]]},
        ],
    )
    out = (await grouped.run(ctx(pool_with(a={"t": "hi"})))).outputs
    assert out == {"text": {"output": "hi"}, "num": {"output": None}}


class FakeRunner:
    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def run_code(
        self, language: str, code: str, inputs: dict[str, Any], *, timeout_s: float | None = None
    ) -> dict[str, Any]:
        self.calls.append((language, code, inputs))
        return self.result


async def test_code_node_checks_the_result_against_declared_outputs() -> None:
    data = {
        "code": "def main(x): return {'y': x * 2}",
        "variables": [{"variable": "x", "value_selector": ["a", "x"]}],
        "outputs": {"y": {"type": "number"}},
    }
    node = build(CodeNode, **data)
    runner = FakeRunner({"y": 4})
    r = await node.run(ctx(pool_with(a={"x": 2}), code=runner))
    assert r.outputs == {"y": 4} and runner.calls[0][2] == {"x": 2}
    for bad, message in (({"z": 1}, "returned no 'y'"), ({"y": "four"}, "must be number")):
        with pytest.raises(NodeError, match=message) as caught:
            await node.run(ctx(pool_with(a={"x": 2}), code=FakeRunner(bad)))
        assert caught.value.code == "code_result_invalid"
    with pytest.raises(ServiceMissingError):
        await node.run(ctx(pool_with(a={"x": 2})))


@dataclass
class Response:
    url: str
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


class FakeHttp:
    def __init__(self, response: Response | Exception) -> None:
        self.response = response
        self.requests: list[dict[str, Any]] = []

    async def fetch(self, url: str, **kw: Any) -> Response:
        self.requests.append({"url": url, **kw})
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


async def test_http_request_builds_the_request_and_types_failures() -> None:
    node = build(
        HttpRequestNode,
        method="POST",
        url="https://api.example.com/items/{{#a.id#}}",
        params=[{"key": "q", "value": "{{#sys.query#}}"}],
        headers=[{"key": "X-Trace", "value": "t1"}],
        body={"type": "json", "data": '{"name": "{{#a.name#}}"}'},
        authorization={"type": "basic", "api_key": "user:pw"},
    )
    http = FakeHttp(Response("u", 200, {"content-type": "application/json"}, b'{"ok": true}'))
    r = await node.run(ctx(pool_with(a={"id": 7, "name": "box"}), http=http))
    sent = http.requests[0]
    assert sent["url"] == "https://api.example.com/items/7?q=hello" and sent["method"] == "POST"
    assert json.loads(sent["content"]) == {"name": "box"}
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(b"user:pw").decode()
    assert r.outputs["status_code"] == 200 and r.outputs["json"] == {"ok": True}
    assert r.inputs["headers"]["Authorization"] == "***"

    failing = FakeHttp(Response("u", 503, {}, b"down"))
    with pytest.raises(NodeError) as caught:
        await node.run(ctx(pool_with(a={"id": 7, "name": "box"}), http=failing))
    assert caught.value.code == "http_status_error" and caught.value.details["status_code"] == 503
    broken = build(HttpRequestNode, method="POST", url="https://x", body={"type": "json",
                   "data": "{{#a.name#}}"})  # fmt: skip
    with pytest.raises(NodeError) as caught:
        await broken.run(ctx(pool_with(a={"name": "not json"}), http=http))
    assert caught.value.code == "http_body_invalid"
    blocked = FakeHttp(ChorusError("refused", code="url_blocked"))
    with pytest.raises(ChorusError) as caught:
        await node.run(ctx(pool_with(a={"id": 1, "name": "b"}), http=blocked))
    assert caught.value.code == "url_blocked"
    slow = build(HttpRequestNode, url="https://x", timeout_s=0.05)

    class Hang(FakeHttp):
        async def fetch(self, url: str, **kw: Any) -> Response:
            import asyncio

            await asyncio.sleep(5)
            raise AssertionError

    with pytest.raises(ChorusTimeout):
        await slow.run(ctx(pool_with(), http=Hang(Response("u", 200))))
