"""Errors of the code sandbox.

::

    ChorusError
    ├── InvalidInputError
    │   ├── CodeExecutionError       400 code_error           (details: type, line, language)
    │   ├── CodeResultError          400 code_result_invalid  (details: language)
    │   └── SandboxLimitError        400 code_limit_exceeded  (details: limit, language)
    └── SandboxUnavailableError      503 sandbox_unavailable

``SandboxLimitError.details["limit"]`` is one of ``cpu``, ``memory``, ``wall_time``,
``output``, ``processes``, ``file_size``.
"""

from __future__ import annotations

from typing import Any, Literal

from agents import error_codes
from agents.errors import ChorusError, InvalidInputError

LimitName = Literal["cpu", "memory", "wall_time", "output", "processes", "file_size"]


class CodeExecutionError(InvalidInputError):
    """The user's code raised, failed to compile, or exited without returning."""

    code = error_codes.CODE_ERROR


class CodeResultError(InvalidInputError):
    """``main`` is missing, or what it returned is not a JSON object."""

    code = error_codes.CODE_RESULT_INVALID


class SandboxLimitError(InvalidInputError):
    """The code hit one of its :class:`SandboxLimits`; ``details["limit"]`` says which."""

    code = error_codes.CODE_LIMIT_EXCEEDED

    def __init__(self, message: str, *, limit: LimitName, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit
        self.details.setdefault("limit", limit)


class SandboxUnavailableError(ChorusError):
    """This host cannot isolate user code, and running it unisolated was not allowed."""

    code = error_codes.SANDBOX_UNAVAILABLE
    status_code = 503
