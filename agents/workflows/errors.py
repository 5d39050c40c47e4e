"""Workflow errors.

::

    ChorusError
    ├── InvalidInputError
    │   ├── WorkflowValidationError   code workflow_invalid: the graph is wrong
    │   │                             (details.errors: [{node_id, field, message}])
    │   └── WorkflowInputError        code workflow_input_invalid: a run's inputs
    └── NodeError                     code node_failed (or the cause's code): one node
        ├── VariableNotFoundError     code variable_not_found
        ├── NodeTimeoutError          code node_timeout
        ├── LlmOutputInvalidError     code llm_output_invalid (nodes/llm/errors.py)
        └── ToolFailedError           code tool_failed (nodes/tool/errors.py)

A node's failure is a :class:`NodeError` (any :class:`ChorusError` a node raises is
kept as it is); the node's error strategy decides what the run does with it.
"""

from __future__ import annotations

from typing import Any

from agents import error_codes
from agents.errors import ChorusError, InvalidInputError


class WorkflowValidationError(InvalidInputError):
    code = error_codes.WORKFLOW_INVALID

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0] if problems else {"message": "invalid workflow"}
        where = first.get("node_id")
        field = first.get("field")
        prefix = f"node {where}" + (f", {field}" if field else "") + ": " if where else ""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{prefix}{first['message']}{more}",
            param=".".join(p for p in ("nodes", where, field) if p) if where else None,
            details={"errors": problems},
        )
        self.problems = problems


class WorkflowInputError(InvalidInputError):
    code = error_codes.WORKFLOW_INPUT_INVALID


class NodeError(ChorusError):
    code = error_codes.NODE_FAILED
    status_code = 422
    error_type = "invalid_request_error"


class VariableNotFoundError(NodeError):
    code = error_codes.VARIABLE_NOT_FOUND

    def __init__(self, selector: list[str]) -> None:
        super().__init__(
            f"variable {'.'.join(selector) or '(empty)'} has no value",
            details={"selector": list(selector)},
        )


class NodeTimeoutError(NodeError):
    code = error_codes.NODE_TIMEOUT
