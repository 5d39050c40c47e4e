"""What a tool is: a name, a description, JSON-Schema parameters, a timeout, and an
async call. Arguments are checked against the schema before the call; a call that
outlives its timeout is cut. Errors are :class:`ChorusError` so that the planner can
hand them back to the model as a result."""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from typing import Any

import jsonschema

from agents import error_codes
from agents.errors import ChorusError, InvalidInputError
from agents.errors import TimeoutError as ChorusTimeout

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def derived_name(prefix: str, display_name: str, record_id: str) -> str:
    """A tool name models accept (``NAME``) for a stored thing (a workflow, a crew):
    ``<prefix>_<slug of its name>_<last 8 of its id>``, stable while the name is."""
    slug = re.sub(r"[^a-zA-Z0-9_]+", "_", display_name).strip("_").lower()[:30] or prefix
    return f"{prefix}_{slug}_{re.sub(r'[^a-zA-Z0-9]', '', record_id)[-8:]}"


class ToolError(ChorusError):
    """A tool failed while running (its own fault or its upstream's)."""

    code = error_codes.TOOL_FAILED
    status_code = 502


class ToolArgumentsError(InvalidInputError):
    code = error_codes.TOOL_ARGUMENTS_INVALID


class BaseTool(ABC):
    """Subclass and set ``name``, ``description``, ``parameters``; implement ``run``."""

    name: str
    description: str
    parameters: dict[str, Any] = {"type": "object", "properties": {}}  # noqa: RUF012
    timeout_s: float = 30.0
    #: Shown in the tool list: builtin, openapi, workflow, plugin.
    source: str = "builtin"

    @abstractmethod
    async def run(self, arguments: dict[str, Any]) -> Any:
        """Do the work; ``arguments`` already match ``parameters``."""

    def check(self, arguments: Any) -> dict[str, Any]:
        """``arguments`` validated against the schema; ToolArgumentsError names the field."""
        if not isinstance(arguments, dict):
            raise ToolArgumentsError(f"{self.name}: arguments must be a JSON object")
        validator = self.__dict__.get("_validator")
        if validator is None:  # built once per tool: compiling a schema is the slow part
            validator = jsonschema.Draft202012Validator(self.parameters)
            self.__dict__["_validator"] = validator
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            err = errors[0]
            where = ".".join(str(p) for p in err.path) or "(arguments)"
            raise ToolArgumentsError(
                f"{self.name}: {where}: {err.message}",
                param=where,
                details={"tool": self.name, "errors": [e.message for e in errors[:5]]},
            )
        return arguments

    async def call(self, arguments: dict[str, Any]) -> Any:
        """Check the arguments, run with the timeout; raises ChorusError only."""
        checked = self.check(arguments)
        try:
            return await asyncio.wait_for(self.run(checked), self.timeout_s)
        except TimeoutError:
            raise ChorusTimeout(
                f"{self.name} did not finish within {self.timeout_s:g} s",
                details={"tool": self.name},
            ) from None
        except ChorusError:
            raise
        except Exception as exc:  # noqa: BLE001 - a tool's bug is a typed tool failure
            raise ToolError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc

    def definition(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def info(self) -> dict[str, Any]:
        """How the tool is listed by the API."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
            "timeout_s": self.timeout_s,
            "source": self.source,
        }
