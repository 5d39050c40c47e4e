"""question-classifier from Dify: the query, classes, instruction and model."""

from __future__ import annotations

from agents.workflows.dify.mapping import (
    Data,
    MappingContext,
    dicts,
    drop_memory,
    drop_vision,
    model_settings,
)


def map_question_classifier(raw: Data, m: MappingContext) -> Data:
    instruction = raw.get("instruction") or raw.get("instructions") or ""
    drop_memory(raw, m)
    drop_vision(raw, m)
    return {
        "query_variable_selector": m.selector(
            raw.get("query_variable_selector"), "query_variable_selector"
        ),
        "classes": [
            {"id": str(c.get("id") or ""), "name": str(c.get("name") or "")}
            for c in dicts(raw.get("classes"))
        ],
        "instruction": m.text(instruction, "instruction"),
        "model": model_settings(raw.get("model"), m),
    }
