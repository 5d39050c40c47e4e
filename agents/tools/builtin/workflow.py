"""A workflow as a tool: parameters from its start node, the run's outputs as result."""

from __future__ import annotations

from typing import Any

from agents.tools.base import BaseTool
from agents.workflows.graph import WorkflowSpec
from agents.workflows.skill import RunWorkflow, WorkflowSkill


class WorkflowTool(BaseTool):
    source = "workflow"

    def __init__(
        self, workflow_id: str, spec: WorkflowSpec, run: RunWorkflow, timeout_s: float = 300.0
    ) -> None:
        self.skill = WorkflowSkill(workflow_id, spec, run)
        self.name = self.skill.name
        self.description = self.skill.description
        self.parameters = self.skill.parameters
        self.timeout_s = timeout_s

    async def run(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.skill.call(arguments)
