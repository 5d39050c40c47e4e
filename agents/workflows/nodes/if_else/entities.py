from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.workflows.nodes.base import BaseNodeData

Operator = Literal[
    "contains",
    "not contains",
    "start with",
    "end with",
    "is",
    "is not",
    "empty",
    "not empty",
    "in",
    "not in",
    "all of",
    "=",
    "≠",
    ">",
    "<",
    "≥",
    "≤",
    "null",
    "not null",
]
#: Operators that take no value.
UNARY = {"empty", "not empty", "null", "not null"}
NUMERIC = {"=", "≠", ">", "<", "≥", "≤"}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variable_selector: list[str] = Field(description="What is tested.", min_length=2)
    comparison_operator: Operator = Field(description="How it is tested.")
    value: Any = Field(
        default=None,
        description="Compared against (may hold {{#node.field#}}); unused by empty/null tests.",
    )


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(description="The handle edges of this branch leave by.", min_length=1)
    logical_operator: Literal["and", "or"] = Field(default="and", description="and / or.")
    conditions: list[Condition] = Field(description="The tests.", min_length=1)


class IfElseNodeData(BaseNodeData):
    cases: list[Case] = Field(
        description="Tried in order; the first that holds is taken, else 'false'.", min_length=1
    )

    @field_validator("cases")
    @classmethod
    def _unique_ids(cls, cases: list[Case]) -> list[Case]:
        ids = [c.case_id for c in cases]
        dupes = sorted({i for i in ids if ids.count(i) > 1} | ({"false"} & set(ids)))
        if dupes:
            raise ValueError(f"case ids must be unique and not 'false': {dupes}")
        return cases
