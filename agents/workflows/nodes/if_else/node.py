"""if-else: take the first case whose conditions hold (and/or), else the 'false' exit.
Conditions work on strings, numbers, arrays and emptiness."""

from __future__ import annotations

from typing import Any

from agents import error_codes
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import NodeError
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference, refs_in
from agents.workflows.nodes.if_else.dify import map_if_else
from agents.workflows.nodes.if_else.entities import NUMERIC, UNARY, Condition, IfElseNodeData
from agents.workflows.variable_pool import VariablePool
from agents.workflows.variables import VarType

ELSE_HANDLE = "false"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise NodeError(f"{what} is a boolean, not a number", code=error_codes.CONDITION_TYPE_ERROR)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise NodeError(
            f"{what} {value!r} is not a number", code=error_codes.CONDITION_TYPE_ERROR
        ) from None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def holds(op: str, actual: Any, expected: Any) -> bool:
    """Does ``actual <op> expected``?"""
    if op == "null":
        return actual is None
    if op == "not null":
        return actual is not None
    if op == "empty":
        return _empty(actual)
    if op == "not empty":
        return not _empty(actual)
    if op in NUMERIC:
        if actual is None:
            return False
        a, b = _number(actual, "the value"), _number(expected, "the compared value")
        return {
            "=": a == b, "≠": a != b, ">": a > b, "<": a < b, "≥": a >= b, "≤": a <= b,
        }[op]  # fmt: skip
    if op in ("is", "is not"):
        same = _same(actual, expected)
        return same if op == "is" else not same
    if op in ("contains", "not contains"):
        if actual is None:
            return op == "not contains"
        found = (
            str(expected) in actual
            if isinstance(actual, str)
            else any(_same(item, expected) for item in actual)
            if isinstance(actual, list)
            else False
        )
        return found if op == "contains" else not found
    if op == "start with":
        return isinstance(actual, str) and actual.startswith(str(expected))
    if op == "end with":
        return isinstance(actual, str) and actual.endswith(str(expected))
    if op in ("in", "not in"):
        pool = expected if isinstance(expected, list) else [expected]
        inside = any(_same(actual, item) for item in pool)
        return inside if op == "in" else not inside
    if op == "all of":
        wanted = expected if isinstance(expected, list) else [expected]
        have = actual if isinstance(actual, list) else []
        return all(any(_same(h, w) for h in have) for w in wanted)
    raise NodeError(f"unknown operator {op!r}", code=error_codes.CONDITION_TYPE_ERROR)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    if isinstance(a, int | float) and not isinstance(b, list | dict):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b if type(a) is type(b) else str(a) == str(b)


class IfElseNode(BaseNode[IfElseNodeData]):
    type = "if-else"
    data_model = IfElseNodeData
    dify = DifyMapping(("if-else",), map_if_else)

    def output_types(self) -> dict[str, VarType]:
        return {"result": "boolean", "selected_case_id": "string"}

    def handles(self) -> list[str]:
        return [c.case_id for c in self.data.cases] + [ELSE_HANDLE]

    def references(self) -> list[Reference]:
        refs = []
        for i, case in enumerate(self.data.cases):
            for j, cond in enumerate(case.conditions):
                where = f"cases.{i}.conditions.{j}"
                accepts = (
                    {"number", "integer", "string"} if cond.comparison_operator in NUMERIC else None
                )
                refs.append(
                    Reference(cond.variable_selector, f"{where}.variable_selector", accepts)
                )
                if isinstance(cond.value, str):
                    refs += refs_in(cond.value, f"{where}.value")
        return refs

    @staticmethod
    def _expected(pool: VariablePool, cond: Condition) -> Any:
        if isinstance(cond.value, str):
            return pool.render(cond.value)
        return cond.value

    async def run(self, ctx: NodeContext) -> NodeResult:
        tested: list[dict[str, Any]] = []
        for case in self.data.cases:
            results = []
            for cond in case.conditions:
                actual = ctx.pool.get(cond.variable_selector, None)
                expected = (
                    None if cond.comparison_operator in UNARY else self._expected(ctx.pool, cond)
                )
                results.append(holds(cond.comparison_operator, actual, expected))
                tested.append(
                    {"selector": cond.variable_selector, "actual": actual,
                     "operator": cond.comparison_operator, "expected": expected}
                )  # fmt: skip
            passed = all(results) if case.logical_operator == "and" else any(results)
            if passed:
                return NodeResult(
                    outputs={"result": True, "selected_case_id": case.case_id},
                    handle=case.case_id,
                    inputs={"conditions": tested},
                )
        return NodeResult(
            outputs={"result": False, "selected_case_id": ELSE_HANDLE},
            handle=ELSE_HANDLE,
            inputs={"conditions": tested},
        )
