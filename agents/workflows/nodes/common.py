"""Data shapes several node types share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.nodes.base import Reference
from agents.workflows.variable_pool import VariablePool


class VariableMapping(BaseModel):
    """A name the node uses, bound to a value upstream."""

    model_config = ConfigDict(extra="forbid")

    variable: str = Field(description="Name inside the node (code argument, template name).")
    value_selector: list[str] = Field(
        description="Where the value comes from: [node_id, output, ...path].", min_length=2
    )


def mapping_refs(mappings: list[VariableMapping], field_name: str) -> list[Reference]:
    return [
        Reference(selector=m.value_selector, field=f"{field_name}.{i}.value_selector")
        for i, m in enumerate(mappings)
    ]


def read_mappings(pool: VariablePool, mappings: list[VariableMapping]) -> dict[str, Any]:
    return {m.variable: pool.get(m.value_selector, None) for m in mappings}


class ModelConfig(BaseModel):
    """Which chat model a node uses, and how."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="Model id (default: the server's).")
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling.")
    max_tokens: int | None = Field(default=None, ge=1, description="Most tokens to generate.")
