"""answer from Dify: the reply template."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext


def map_answer(raw: Data, m: MappingContext) -> Data:
    return {"answer": m.text(raw.get("answer"), "answer")}
