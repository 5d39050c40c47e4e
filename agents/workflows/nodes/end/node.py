"""end: the workflow's outputs (workflow mode)."""

from __future__ import annotations

from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference
from agents.workflows.nodes.common import mapping_refs, read_mappings
from agents.workflows.nodes.end.dify import map_end
from agents.workflows.nodes.end.entities import EndNodeData
from agents.workflows.variables import VarType


class EndNode(BaseNode[EndNodeData]):
    type = "end"
    data_model = EndNodeData
    dify = DifyMapping(("end",), map_end)
    terminal = True

    def output_types(self) -> dict[str, VarType]:
        return {m.variable: "any" for m in self.data.outputs}

    def references(self) -> list[Reference]:
        return mapping_refs(self.data.outputs, "outputs")

    async def run(self, ctx: NodeContext) -> NodeResult:
        values = read_mappings(ctx.pool, self.data.outputs)
        return NodeResult(outputs=values, inputs=values)
