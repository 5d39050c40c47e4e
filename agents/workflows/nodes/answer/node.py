"""answer: a reply streamed to the user (chat mode); several may run in one turn."""

from __future__ import annotations

from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.nodes.answer.dify import map_answer
from agents.workflows.nodes.answer.entities import AnswerNodeData
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference, refs_in
from agents.workflows.variables import VarType


class AnswerNode(BaseNode[AnswerNodeData]):
    type = "answer"
    data_model = AnswerNodeData
    dify = DifyMapping(("answer",), map_answer)
    terminal = True

    def output_types(self) -> dict[str, VarType]:
        return {"answer": "string"}

    def references(self) -> list[Reference]:
        return refs_in(self.data.answer, "answer")

    async def run(self, ctx: NodeContext) -> NodeResult:
        text = ctx.pool.render(self.data.answer)
        if text:
            await ctx.emit_delta(self.id, text)
        return NodeResult(outputs={"answer": text})
