"""A workflow exposed as a skill: its schema comes from the start node, a call runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agents.errors import ChorusError
from agents.events import Event
from agents.workflows.engine import WorkflowEngine
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.skill import WorkflowSkill, input_schema
from agents.workflows.validation import compile_workflow

SPEC = WorkflowSpec(
    name="Unit converter!",
    description="Converts kilometres to miles.",
    nodes=[
        NodeSpec(
            id="start",
            type="start",
            data={
                "variables": [
                    {"variable": "km", "type": "number", "description": "Distance in km"},
                    {
                        "variable": "style",
                        "type": "string",
                        "options": ["short", "long"],
                        "required": False,
                        "default": "short",
                    },
                ]
            },
        ),  # fmt: skip
        NodeSpec(
            id="t",
            type="template-transform",
            data={
                "template": "{{ (km * 0.621371) | round(1) }} mi",
                "variables": [{"variable": "km", "value_selector": ["start", "km"]}],
            },
        ),
        NodeSpec(
            id="end",
            type="end",
            data={"outputs": [{"variable": "miles", "value_selector": ["t", "output"]}]},
        ),
    ],
    edges=[Edge(source="start", target="t"), Edge(source="t", target="end")],
)


def runner() -> Any:
    compiled = compile_workflow(SPEC)

    async def run(workflow_id: str, inputs: dict[str, Any]) -> AsyncIterator[Event]:
        async for event in WorkflowEngine().run(compiled, inputs, workflow_id=workflow_id):
            yield event

    return run


def test_the_schema_comes_from_the_start_node() -> None:
    assert input_schema(SPEC) == {
        "type": "object",
        "properties": {
            "km": {"type": "number", "description": "Distance in km"},
            "style": {"type": "string", "enum": ["short", "long"]},
        },
        "required": ["km"],
    }
    skill = WorkflowSkill("wf_0123456789abcdef", SPEC, runner())
    assert skill.name == "wf_unit_converter_89abcdef"
    assert skill.description == "Converts kilometres to miles."


async def test_a_call_runs_the_workflow_and_errors_come_back_typed() -> None:
    skill = WorkflowSkill("wf_1", SPEC, runner())
    assert await skill.call({"km": 10}) == {"miles": "6.2 mi"}
    with pytest.raises(ChorusError) as caught:
        await skill.call({"km": "far"})
    assert caught.value.code == "workflow_input_invalid"
