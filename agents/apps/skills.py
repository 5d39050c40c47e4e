"""The skills an app's planner gets: the built-in tools (and the workspace's own OpenAPI
tools when a tool service is given) selected by name in ``AppSpec.tools``, the
knowledge search over the app's bases, each workflow in ``AppSpec.workflows`` and each
crew in ``AppSpec.crews`` as a tool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from agents.apps.spec import AppSpec
from agents.crews.service import CrewService
from agents.crews.skill import CrewSkill
from agents.events import Event
from agents.knowledge.retriever import RetrieverProtocol
from agents.tools.base import BaseTool
from agents.tools.builtin import KnowledgeSearchTool
from agents.tools.registry import ToolRegistry
from agents.tools.service import ToolService
from agents.workflows.context import ServiceMissingError
from agents.workflows.service import WorkflowService
from agents.workflows.skill import WorkflowTool


class AppTools:
    """:class:`agents.conversation.turn.AppToolsProtocol` over the server's services."""

    def __init__(
        self,
        builtins: ToolRegistry,
        *,
        tools: ToolService | None = None,
        workflows: WorkflowService | None = None,
        crews: CrewService | None = None,
        retriever: RetrieverProtocol | None = None,
    ) -> None:
        self.builtins = builtins
        self.tool_service = tools
        self.workflows = workflows
        self.crews = crews
        self.retriever = retriever

    async def registry(self, workspace_id: str) -> ToolRegistry:
        if self.tool_service is not None:
            return await self.tool_service.tools_for(workspace_id)
        return self.builtins

    async def tools_for(self, spec: AppSpec, workspace_id: str) -> list[BaseTool]:
        registry = await self.registry(workspace_id)
        if self.retriever is not None and "search_knowledge" in spec.tools:
            search = KnowledgeSearchTool(self.retriever, workspace_id, spec.knowledge_bases)
            registry = registry.with_extra([search])
        tools = [registry.get(name) for name in spec.tools]
        if spec.workflows:
            tools += await self._workflow_tools(spec.workflows, workspace_id)
        if spec.crews:
            if self.crews is None:
                raise ServiceMissingError("this server runs no crews")
            for crew_id in spec.crews:
                record = await self.crews.get(workspace_id, crew_id)
                tools.append(CrewSkill(workspace_id, crew_id, record.spec, self.crews))
        return tools

    async def _workflow_tools(self, workflow_ids: list[str], workspace_id: str) -> list[BaseTool]:
        workflows = self.workflows
        if workflows is None:
            raise ServiceMissingError("this server runs no workflows")

        def run(workflow_id: str, inputs: dict[str, Any]) -> AsyncIterator[Event]:
            return workflows.run(workspace_id, workflow_id, inputs)

        runner: Callable[[str, dict[str, Any]], AsyncIterator[Event]] = run
        found: list[BaseTool] = []
        for workflow_id in workflow_ids:
            record = await workflows.store.get_record(workspace_id, workflow_id)
            found.append(WorkflowTool(workflow_id, record.spec, runner))
        return found
