"""variable-aggregator (and the older variable-assigner) from Dify: the variables, or
groups of them."""

from __future__ import annotations

from typing import Any

from agents.workflows.dify.mapping import Data, MappingContext, dicts


def map_variable_aggregator(raw: Data, m: MappingContext) -> Data:
    def selectors(value: Any, where: str) -> list[list[str]]:
        items = value if isinstance(value, list) else []
        return [m.selector(s, f"{where}.{i}") for i, s in enumerate(items)]

    advanced = raw.get("advanced_settings")
    groups = dicts(advanced.get("groups")) if isinstance(advanced, dict) else []
    if isinstance(advanced, dict) and advanced.get("group_enabled") and groups:
        return {
            "groups": [
                {
                    "group_name": str(g.get("group_name") or ""),
                    "output_type": m.var_type(g.get("output_type"), f"groups.{i}.output_type"),
                    "variables": selectors(g.get("variables"), f"groups.{i}.variables"),
                }
                for i, g in enumerate(groups)
            ]
        }
    return {
        "output_type": m.var_type(raw.get("output_type"), "output_type"),
        "variables": selectors(raw.get("variables"), "variables"),
    }
