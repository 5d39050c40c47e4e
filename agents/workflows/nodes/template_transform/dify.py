"""template-transform from Dify: the template and its variables."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext


def map_template_transform(raw: Data, m: MappingContext) -> Data:
    return {
        "variables": m.mappings(raw.get("variables"), "variables"),
        "template": str(raw.get("template") or ""),
    }
