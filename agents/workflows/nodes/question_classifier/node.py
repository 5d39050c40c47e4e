"""The question-classifier node: the model picks one class; the run follows its edge."""

from __future__ import annotations

from typing import Any

from agents.engine import ChatMessage
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference, refs_in
from agents.workflows.nodes.llm.completion import (
    chat_request,
    complete,
    messages_record,
    parse_json_object,
    usage_output,
)
from agents.workflows.nodes.llm.errors import LlmOutputInvalidError
from agents.workflows.nodes.question_classifier.dify import map_question_classifier
from agents.workflows.nodes.question_classifier.entities import QuestionClassifierNodeData
from agents.workflows.variables import VarType, to_text

#: Enough for the JSON around any class id.
_MAX_TOKENS = 128


class QuestionClassifierNode(BaseNode[QuestionClassifierNodeData]):
    type = "question-classifier"
    data_model = QuestionClassifierNodeData
    dify = DifyMapping(("question-classifier",), map_question_classifier)

    def output_types(self) -> dict[str, VarType]:
        return {"class_name": "string", "class_id": "string", "usage": "object"}

    def references(self) -> list[Reference]:
        return [
            Reference(self.data.query_variable_selector, "query_variable_selector", {"string"}),
            *refs_in(self.data.instruction, "instruction"),
        ]

    def handles(self) -> list[str]:
        return [c.id for c in self.data.classes]

    async def run(self, ctx: NodeContext) -> NodeResult:
        data = self.data
        query = to_text(ctx.pool.get(data.query_variable_selector))
        messages = [
            ChatMessage(role="system", content=self._system(ctx.pool.render(data.instruction))),
            ChatMessage(role="user", content=query),
        ]
        engine, name = ctx.services.engine(data.model.name)
        request = chat_request(
            name, data.model, messages, schema=self._schema(), temperature=0, max_tokens=_MAX_TOKENS
        )
        text, usage = await complete(engine, request)
        chosen = (parse_json_object(text) or {}).get("class_id")
        match = next((c for c in data.classes if c.id == chosen), None)
        if match is None:
            raise LlmOutputInvalidError(
                "the model chose none of the classes", details={"output": text[:500]}
            )
        used = usage_output(usage)
        return NodeResult(
            outputs={"class_name": match.name, "class_id": match.id, "usage": used},
            handle=match.id,
            inputs={"model": name, "messages": messages_record(messages)},
            tokens=used["total_tokens"],
        )

    def _schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "class_id": {"type": "string", "enum": [c.id for c in self.data.classes]}
            },
            "required": ["class_id"],
            "additionalProperties": False,
        }

    def _system(self, instruction: str) -> str:
        lines = [
            "Classify the user's text into exactly one of the classes below. "
            'Reply with JSON: {"class_id": "<id of the class>"}.',
            "",
            "Classes (id: what it covers):",
            *(f"- {c.id}: {c.name}" for c in self.data.classes),
        ]
        if instruction.strip():
            lines += ["", "Instructions:", instruction.strip()]
        return "\n".join(lines)
