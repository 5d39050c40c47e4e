"""variable-aggregator: merge the values of exclusive branches into one output (the
first selector, in order, whose node ran and produced a value)."""

from __future__ import annotations

from typing import Any

from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference
from agents.workflows.nodes.variable_aggregator.dify import map_variable_aggregator
from agents.workflows.nodes.variable_aggregator.entities import VariableAggregatorNodeData
from agents.workflows.variable_pool import VariablePool
from agents.workflows.variables import VarType


def _first(pool: VariablePool, selectors: list[list[str]]) -> Any:
    for selector in selectors:
        value = pool.get(selector, None)
        if value is not None:
            return value
    return None


class VariableAggregatorNode(BaseNode[VariableAggregatorNodeData]):
    type = "variable-aggregator"
    data_model = VariableAggregatorNodeData
    #: 'variable-assigner' is the name it had in early Dify DSLs.
    dify = DifyMapping(("variable-aggregator", "variable-assigner"), map_variable_aggregator)

    def output_types(self) -> dict[str, VarType]:
        if self.data.groups:
            return {g.group_name: "object" for g in self.data.groups}
        return {"output": self.data.output_type}

    def references(self) -> list[Reference]:
        def accepts(t: str) -> set[str] | None:
            return None if t == "any" else {t}

        if self.data.groups:
            return [
                Reference(sel, f"groups.{i}.variables.{j}", accepts(g.output_type))
                for i, g in enumerate(self.data.groups)
                for j, sel in enumerate(g.variables)
            ]
        return [
            Reference(sel, f"variables.{j}", accepts(self.data.output_type))
            for j, sel in enumerate(self.data.variables)
        ]

    async def run(self, ctx: NodeContext) -> NodeResult:
        if self.data.groups:
            outputs: dict[str, Any] = {
                g.group_name: {"output": _first(ctx.pool, g.variables)} for g in self.data.groups
            }
        else:
            outputs = {"output": _first(ctx.pool, self.data.variables)}
        return NodeResult(outputs=outputs, inputs=outputs)
