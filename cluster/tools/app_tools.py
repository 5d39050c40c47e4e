"""The tools an app's planner gets: the built-ins (and the workspace's own OpenAPI tools
when a tool service is given) selected by name in ``AppSpec.tools``, the knowledge
search over the app's bases, each workflow in ``AppSpec.workflows`` and each crew in
``AppSpec.crews`` as a tool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from agents.apps.spec import AppSpec
from agents.events import Event
from agents.tools.base import BaseTool
from agents.tools.builtin import KnowledgeSearchTool, builtin_tools
from agents.tools.registry import ToolRegistry
from agents.workflows.context import ServiceMissingError
from agents.workflows.skill import WorkflowTool
from cluster.settings import ChorusSettings
from cluster.workflows.factory import build_workflow_service, code_runner, guard


class AppTools:
    def __init__(
        self,
        settings: ChorusSettings,
        engine_for: Callable[[str], Any],
        retriever: Any = None,
        tool_service: Any = None,
        crews: Any = None,
    ) -> None:
        self.retriever = retriever
        self.tool_service = tool_service
        self.crews = crews  # cluster.crews.crew_service.CrewService
        self.builtins = ToolRegistry(
            builtin_tools(http=guard(settings), code=code_runner(settings))
        ).freeze()
        tools_for = tool_service.tools_for if tool_service is not None else None
        self.workflows = build_workflow_service(
            settings, engine_for, retriever, tools=self.builtins, tools_for=tools_for
        )
        self._started: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        await self.workflows.start()
        if self.tool_service is not None:
            await self.tool_service.store.start()
        if self.crews is not None:
            await self.crews.store.start()

    async def _ready(self) -> None:
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await self._started

    async def registry(self, workspace_id: str) -> ToolRegistry:
        if self.tool_service is not None:
            await self._ready()
            return await self.tool_service.tools_for(workspace_id)  # type: ignore[no-any-return]
        return self.builtins

    async def tools_for(self, spec: AppSpec, workspace_id: str) -> list[BaseTool]:
        registry = await self.registry(workspace_id)
        extra: list[BaseTool] = []
        if self.retriever is not None and "search_knowledge" in spec.tools:
            extra.append(KnowledgeSearchTool(self.retriever, workspace_id, spec.knowledge_bases))
        if extra:
            registry = registry.with_extra(extra)
        tools = [registry.get(name) for name in spec.tools]
        if spec.workflows:
            await self._ready()  # the workflow store

            def runner(ws: str) -> Callable[[str, dict[str, Any]], AsyncIterator[Event]]:
                def run(workflow_id: str, inputs: dict[str, Any]) -> AsyncIterator[Event]:
                    return self.workflows.run(ws, workflow_id, inputs)

                return run

            for workflow_id in spec.workflows:
                record = await self.workflows.store.get_workflow(workspace_id, workflow_id)
                tools.append(WorkflowTool(workflow_id, record.spec, runner(workspace_id)))
        if spec.crews:
            if self.crews is None:
                raise ServiceMissingError("this server runs no crews")
            from cluster.crews.crew_skill import CrewSkill

            await self._ready()
            for crew_id in spec.crews:
                record = await self.crews.get(workspace_id, crew_id)
                tools.append(CrewSkill(workspace_id, crew_id, record.spec, self.crews))
        return tools
