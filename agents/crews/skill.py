"""A crew as a tool an app's planner may call ("runnable from chat"): its parameters are
the crew's declared inputs, its result the crew's final output and each task's output."""

from __future__ import annotations

from typing import Any

from agents import error_codes
from agents.crews.service import CrewService
from agents.crews.spec import CrewSpec
from agents.errors import ChorusError
from agents.tools.base import BaseTool, derived_name


class CrewSkill(BaseTool):
    source = "crew"

    def __init__(
        self,
        workspace_id: str,
        crew_id: str,
        spec: CrewSpec,
        service: CrewService,
        timeout_s: float = 600,
    ) -> None:
        self.name = derived_name("crew", spec.name, crew_id)
        self.description = spec.description or f"Ask the crew '{spec.name}' to do its tasks."
        self.parameters = {
            "type": "object",
            "properties": {name: {"type": "string"} for name in spec.inputs},
            "required": list(spec.inputs),
            "additionalProperties": False,
        }
        self.timeout_s = timeout_s
        self.workspace_id = workspace_id
        self.crew_id = crew_id
        self.service = service

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.service.run_to_end(self.workspace_id, self.crew_id, arguments)
        if result.get("status") != "succeeded":
            error = result.get("error") or {}
            raise ChorusError(
                error.get("message") or "the crew failed",
                code=error.get("code") or error_codes.CREW_FAILED,
                details={"crew_id": self.crew_id, "run_id": result.get("run_id")},
            )
        return {
            "final_output": result.get("final_output", ""),
            "outputs": result.get("outputs", {}),
            "run_id": result.get("run_id"),
        }
