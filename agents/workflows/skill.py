"""A workflow as a skill an app's model may call: a tool whose parameters are the
start node's inputs (as JSON Schema) and whose result is the run's outputs.

The planner offers these next to the app's tools (as :class:`WorkflowTool`, a
:class:`BaseTool` with a timeout and checked arguments); a failed run comes back as an
error result the model can read, never as a crashed turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from agents.errors import ChorusError
from agents.events import Event
from agents.tools.base import BaseTool, derived_name
from agents.workflows.graph import WorkflowSpec
from agents.workflows.nodes.start.entities import StartNodeData

#: Runs a workflow by id with inputs and yields its events (WorkflowService.run's shape).
RunWorkflow = Callable[[str, dict[str, Any]], AsyncIterator[Event]]

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array[string]": {"type": "array", "items": {"type": "string"}},
    "array[number]": {"type": "array", "items": {"type": "number"}},
    "array[boolean]": {"type": "array", "items": {"type": "boolean"}},
    "array[object]": {"type": "array", "items": {"type": "object"}},
    "array[any]": {"type": "array"},
    "any": {},
}


def tool_name(workflow_id: str, spec: WorkflowSpec) -> str:
    """A function name models accept, stable per workflow."""
    return derived_name("wf", spec.name, workflow_id)


def input_schema(spec: WorkflowSpec) -> dict[str, Any]:
    """The JSON Schema of the workflow's inputs (from its start node)."""
    start = next(n for n in spec.nodes if n.type == "start" and n.parent_id is None)
    data = StartNodeData.model_validate(start.data)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for var in data.variables:
        prop = dict(_JSON_TYPES.get(var.type, {}))
        if var.description or var.label:
            prop["description"] = var.description or var.label
        if var.options:
            prop["enum"] = list(var.options)
        if var.max_length and var.type == "string":
            prop["maxLength"] = var.max_length
        properties[var.variable] = prop
        if var.required and var.default is None:
            required.append(var.variable)
    return {"type": "object", "properties": properties, "required": required}


class WorkflowSkill:
    """ToolProtocol for one workflow (name, description, parameters, async call)."""

    def __init__(self, workflow_id: str, spec: WorkflowSpec, run: RunWorkflow) -> None:
        self.workflow_id = workflow_id
        self.name = tool_name(workflow_id, spec)
        self.description = spec.description or f"Run the workflow '{spec.name}'."
        self.parameters = input_schema(spec)
        self._run = run

    async def call(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The run's outputs; raises the run's error (a ChorusError) when it failed."""
        error: ChorusError | None = None
        outputs: dict[str, Any] = {}
        async for event in self._run(self.workflow_id, arguments):
            if event.type == "error":
                error = ChorusError(event.message, code=event.code, details=event.details)
            elif event.type == "workflow_finished":
                outputs = dict(event.outputs)
        if error is not None:
            raise error
        return outputs


class WorkflowTool(BaseTool):
    """A workflow in the tool registry: a :class:`WorkflowSkill` with a timeout."""

    source = "workflow"

    def __init__(
        self, workflow_id: str, spec: WorkflowSpec, run: RunWorkflow, timeout_s: float = 300.0
    ) -> None:
        self.skill = WorkflowSkill(workflow_id, spec, run)
        self.name = self.skill.name
        self.description = self.skill.description
        self.parameters = self.skill.parameters
        self.timeout_s = timeout_s

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.skill.call(arguments)
