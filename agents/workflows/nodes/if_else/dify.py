"""if-else from Dify: cases (or the older single condition list) and their operators."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext, dicts

#: Dify comparison operators spelled otherwise here.
_OPERATORS = {
    "is null": "null",
    "is not null": "not null",
    "exists": "not null",
    "not exists": "null",
}
_KNOWN_OPERATORS = {
    *("contains", "not contains", "start with", "end with", "is", "is not", "empty"),
    *("not empty", "in", "not in", "all of", "=", "≠", ">", "<", "≥", "≤", "null", "not null"),
}
_UNARY = {"empty", "not empty", "null", "not null"}


def map_if_else(raw: Data, m: MappingContext) -> Data:
    cases = dicts(raw.get("cases"))
    if not cases and isinstance(raw.get("conditions"), list):
        m.note("info", "cases", "the older single condition list is case 'true'")
        cases = [
            {
                "case_id": "true",
                "logical_operator": raw.get("logical_operator"),
                "conditions": raw["conditions"],
            }
        ]
    out: list[Data] = []
    for i, case in enumerate(cases):
        conditions = []
        for j, cond in enumerate(dicts(case.get("conditions"))):
            conditions.append(_condition(cond, f"cases.{i}.conditions.{j}", m))
        logical = case.get("logical_operator") if case.get("logical_operator") == "or" else "and"
        case_id = str(case.get("case_id") or case.get("id") or "")
        out.append({"case_id": case_id, "logical_operator": logical, "conditions": conditions})
    return {"cases": out}


def _condition(cond: Data, where: str, m: MappingContext) -> Data:
    operator = str(cond.get("comparison_operator") or "")
    operator = _OPERATORS.get(operator, operator)
    if operator not in _KNOWN_OPERATORS:
        m.note("needs_mapping", f"{where}.comparison_operator", f"no operator {operator!r} here")
    value = cond.get("value")
    if cond.get("value_type") == "value_selector":
        ref = m.selector(cond.get("value_selector"), f"{where}.value_selector")
        value = "{{#" + ".".join(ref) + "#}}"
    elif isinstance(value, str):
        value = m.text(value, f"{where}.value")
    if operator in _UNARY:
        value = None
    if cond.get("sub_variable_condition"):
        m.note("needs_mapping", where, "conditions on file attributes are not supported")
    selector = m.selector(cond.get("variable_selector"), f"{where}.variable_selector")
    return {"variable_selector": selector, "comparison_operator": operator, "value": value}
