"""An optional rerank step: the chat model grades each retrieved chunk's relevance.

Retrieval returns more candidates than needed; the reranker asks the model, with a
JSON-schema-constrained answer, how well each chunk answers the question (0-10), and
orders by that grade (ties keep the retrieval order). Any engine works, so a larger
model on SGLang makes a better reranker than the CPU default.
"""

from __future__ import annotations

import json

import structlog

from agents.engine import ChatMessage, ChatRequest, EngineProtocol, ResponseFormat
from agents.errors import ChorusError
from agents.knowledge.index import ScoredChunk

log = structlog.get_logger(__name__)

_SCHEMA = {
    "type": "object",
    "properties": {"relevance": {"type": "integer", "minimum": 0, "maximum": 10}},
    "required": ["relevance"],
    "additionalProperties": False,
}


class LlmReranker:
    def __init__(self, engine: EngineProtocol, model: str, max_chars: int = 1200) -> None:
        self.engine = engine
        self.model = model
        self.max_chars = max_chars

    async def grade(self, query: str, chunk: ScoredChunk) -> float:
        """The chunk's relevance in [0, 1]; 0 when the model's answer is unusable."""
        request = ChatRequest(
            model=self.model,
            messages=[
                ChatMessage(
                    role="system",
                    content="Rate from 0 to 10 how well the passage answers the question. "
                    'Reply with JSON {"relevance": <0-10>}.',
                ),
                ChatMessage(
                    role="user",
                    content=f"Question: {query}\n\nPassage: {chunk.text[: self.max_chars]}",
                ),
            ],
            temperature=0,
            max_tokens=16,
            response_format=ResponseFormat.model_validate(
                {"type": "json_schema", "json_schema": {"name": "grade", "schema": _SCHEMA}}
            ),
        )
        try:
            out = await self.engine.chat(request)
            value = json.loads(out.choices[0].message.content or "{}")["relevance"]
            return max(0.0, min(10.0, float(value))) / 10
        except (ChorusError, ValueError, KeyError, TypeError) as exc:
            log.warning("rerank_grade_failed", chunk=chunk.id, error=str(exc))
            return 0.0

    async def rerank(self, query: str, chunks: list[ScoredChunk], top_k: int) -> list[ScoredChunk]:
        """``chunks`` ordered by the model's grade (the new ``score``), best ``top_k``.

        Grades are asked one at a time: a CPU engine serves one request at a time anyway.
        """
        graded = [(await self.grade(query, c), i, c) for i, c in enumerate(chunks)]
        graded.sort(key=lambda item: (-item[0], item[1]))
        return [c.model_copy(update={"score": grade}) for grade, _, c in graded[:top_k]]
