"""calculator: arithmetic through simpleeval (an expression evaluator with no access to
Python's names, attributes or imports), with math functions and bounded powers."""

from __future__ import annotations

import math
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression, NumberTooHigh

from agents.tools.base import BaseTool, ToolArgumentsError

_FUNCTIONS = {
    name: getattr(math, name)
    for name in ("sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "log", "log10", "log2",
                 "exp", "floor", "ceil", "fabs", "factorial", "radians", "degrees", "hypot")
}  # fmt: skip
_FUNCTIONS.update({"abs": abs, "round": round, "min": min, "max": max, "sum": sum})
_NAMES = {"pi": math.pi, "e": math.e, "tau": math.tau}


class CalculatorTool(BaseTool):
    name = "calculator"
    description = (
        "Evaluate an arithmetic expression exactly, e.g. '(12.5 * 3) / 7' or 'sqrt(2) ** 3'. "
        "Supports + - * / // % **, parentheses, pi, e and math functions."
    )
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {"expression": {"type": "string", "maxLength": 100}},
        "required": ["expression"],
        "additionalProperties": False,
    }
    timeout_s = 5.0

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        expression = arguments["expression"]
        evaluator = EvalWithCompoundTypes(functions=_FUNCTIONS, names=_NAMES)
        try:
            value = evaluator.eval(expression)
        except ZeroDivisionError:
            raise ToolArgumentsError("expression: division by zero", param="expression") from None
        except (InvalidExpression, NumberTooHigh, SyntaxError, TypeError, ValueError) as exc:
            raise ToolArgumentsError(
                f"expression: cannot evaluate {expression!r}: {exc}", param="expression"
            ) from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ToolArgumentsError("expression: the result is not a number", param="expression")
        return {"expression": expression, "result": value}
