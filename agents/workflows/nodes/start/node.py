"""start: the workflow's inputs, checked against their declarations."""

from __future__ import annotations

from typing import Any

from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import WorkflowInputError
from agents.workflows.nodes.base import BaseNode, NodeResult
from agents.workflows.nodes.start.dify import map_start
from agents.workflows.nodes.start.entities import StartNodeData
from agents.workflows.variables import VarType, matches


class StartNode(BaseNode[StartNodeData]):
    type = "start"
    data_model = StartNodeData
    dify = DifyMapping(("start",), map_start)

    def output_types(self) -> dict[str, VarType]:
        return {v.variable: v.type for v in self.data.variables}

    def coerce_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The run's inputs, checked; raises WorkflowInputError naming the input."""
        known = {v.variable for v in self.data.variables}
        unknown = sorted(set(inputs) - known)
        if unknown:
            raise WorkflowInputError(
                f"unknown input {unknown[0]!r}; this workflow takes {sorted(known) or 'none'}",
                param=f"inputs.{unknown[0]}",
            )
        values: dict[str, Any] = {}
        for var in self.data.variables:
            value = inputs.get(var.variable)
            if value is None or value == "":
                if var.required and var.default is None:
                    raise WorkflowInputError(
                        f"input {var.variable!r} is required", param=f"inputs.{var.variable}"
                    )
                values[var.variable] = var.default
                continue
            if var.type in ("number", "integer") and isinstance(value, str):
                try:
                    value = int(value) if var.type == "integer" else float(value)
                except ValueError:
                    pass
            if not matches(value, var.type):
                raise WorkflowInputError(
                    f"input {var.variable!r} must be {var.type}, not {type(value).__name__}",
                    param=f"inputs.{var.variable}",
                )
            if var.options and value not in var.options:
                raise WorkflowInputError(
                    f"input {var.variable!r} must be one of {var.options}",
                    param=f"inputs.{var.variable}",
                )
            if var.max_length and isinstance(value, str) and len(value) > var.max_length:
                raise WorkflowInputError(
                    f"input {var.variable!r} is longer than {var.max_length} characters",
                    param=f"inputs.{var.variable}",
                )
            values[var.variable] = value
        return values

    async def run(self, ctx: NodeContext) -> NodeResult:
        outputs = ctx.pool.outputs(self.id) or {}
        return NodeResult(outputs=outputs, inputs=outputs)
