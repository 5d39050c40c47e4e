"""run_code: run a Python or JavaScript snippet in the code sandbox."""

from __future__ import annotations

from typing import Any

from agents.sandbox.code_runner import CodeRunnerProtocol
from agents.tools.base import BaseTool


class RunCodeTool(BaseTool):
    name = "run_code"
    description = (
        "Run code in an isolated sandbox (no network, no files). The code must define "
        "main(**inputs) in Python or function main(inputs) in JavaScript returning a JSON "
        "object, which is the result."
    )
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {
            "language": {"type": "string", "enum": ["python3", "javascript"]},
            "code": {"type": "string", "maxLength": 20000},
            "inputs": {"type": "object", "description": "Arguments of main."},
        },
        "required": ["language", "code"],
        "additionalProperties": False,
    }

    def __init__(self, runner: CodeRunnerProtocol, timeout_s: float = 15.0) -> None:
        self.runner = runner
        self.timeout_s = timeout_s

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.runner.run_code(
            arguments["language"], arguments["code"], dict(arguments.get("inputs") or {})
        )
