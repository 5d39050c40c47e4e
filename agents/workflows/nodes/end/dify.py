"""end from Dify: the outputs."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext


def map_end(raw: Data, m: MappingContext) -> Data:
    return {"outputs": m.mappings(raw.get("outputs"), "outputs", "dropped")}
