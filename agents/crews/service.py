"""Crews as a service: stored, validated against the workspace's tools, and run by a
crew runner (on the server, CrewAI against the gateway's own OpenAI-compatible
endpoint: :mod:`cluster.crews.crew_runner`).

A run executes in the process that asked (the gateway replica for the API, a session
shard for an app's crew skill). Every run is stored as a
:class:`~agents.crews.records.CrewRunRecord`, saved when it starts and again when it ends.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from agents import error_codes
from agents.crews.records import CrewRecord, CrewRunRecord, CrewTaskRunRecord
from agents.crews.spec import CrewSpec
from agents.errors import ChorusError, InvalidInputError, NotFoundError
from agents.events import CrewEvent
from agents.ids import utcnow
from agents.repository import RunRepositoryProtocol
from agents.tools.registry import ToolRegistry

log = structlog.get_logger(__name__)

ToolsFor = Callable[[str], ToolRegistry | Awaitable[ToolRegistry]]


class CrewRunnerProtocol(Protocol):
    def run(
        self,
        spec: CrewSpec,
        inputs: dict[str, str],
        *,
        run_id: str,
        crew_id: str,
        model: str,
        tools: ToolRegistry | None = None,
        conversation_id: str = "",
        api_key: str | None = None,
    ) -> AsyncIterator[CrewEvent]:
        """The run's events; a failure is an ``error`` event then ``crew_finished``."""
        ...


@dataclass
class _Prepared:
    record: CrewRecord
    inputs: dict[str, str]
    model: str
    tools: ToolRegistry


class CrewService:
    """``runner``: makes the crew runner on the first run (importing CrewAI is slow, so
    a process that never runs a crew never pays for it); ``default_model``: the model
    of a crew that names none; ``tools_for(workspace)``: the workspace's tools (a
    registry, or an awaitable of one)."""

    def __init__(
        self,
        store: RunRepositoryProtocol[CrewRecord, CrewRunRecord],
        *,
        runner: Callable[[], CrewRunnerProtocol],
        default_model: str | None,
        tools_for: ToolsFor,
        credential: Callable[[str], str] | None = None,
    ) -> None:
        """``credential(workspace)``: the key a crew's model calls present to the server
        (a short-lived credential of that workspace only); None: the runner's own."""
        self.store = store
        self._credential = credential
        self.default_model = default_model
        self._tools_for = tools_for
        self._make_runner = runner
        self._runner: CrewRunnerProtocol | None = None

    # crews

    def runner(self) -> CrewRunnerProtocol:
        """The crew runner, made on first use."""
        if self._runner is None:
            self._runner = self._make_runner()
        return self._runner

    async def create(self, workspace_id: str, spec: CrewSpec) -> CrewRecord:
        """Store a crew whose tools all exist in the workspace (InvalidInputError if not)."""
        self._check_tools(spec, await self.tools(workspace_id))
        return await self.store.create_record(CrewRecord(workspace_id=workspace_id, spec=spec))

    async def get(self, workspace_id: str, crew_id: str) -> CrewRecord:
        return await self.store.get_record(workspace_id, crew_id)

    async def list_crews(self, workspace_id: str) -> list[CrewRecord]:
        return await self.store.list_records(workspace_id)

    async def delete(self, workspace_id: str, crew_id: str) -> None:
        await self.store.delete_record(workspace_id, crew_id)

    async def get_run(self, workspace_id: str, run_id: str) -> CrewRunRecord:
        return await self.store.get_run(workspace_id, run_id)

    async def tools(self, workspace_id: str) -> ToolRegistry:
        found = self._tools_for(workspace_id)
        return await found if inspect.isawaitable(found) else found

    @staticmethod
    def _check_tools(spec: CrewSpec, registry: ToolRegistry) -> None:
        for i, agent in enumerate(spec.agents):
            for j, name in enumerate(agent.tools):
                try:
                    registry.get(name)
                except NotFoundError as exc:
                    raise InvalidInputError(
                        f"agent '{agent.id}' uses the unknown tool '{name}'",
                        code=error_codes.TOOL_NOT_FOUND,
                        param=f"agents.{i}.tools.{j}",
                        details={"tools": registry.names()},
                    ) from exc

    # runs

    async def _prepare(self, workspace_id: str, crew_id: str, inputs: dict[str, Any]) -> _Prepared:
        record = await self.store.get_record(workspace_id, crew_id)
        checked = record.spec.check_inputs(inputs)
        model = record.spec.model or self.default_model
        if not model:
            raise InvalidInputError(
                "the crew names no model and the server has no default model", param="model"
            )
        registry = await self.tools(workspace_id)
        self._check_tools(record.spec, registry)
        return _Prepared(record=record, inputs=checked, model=model, tools=registry)

    async def run(
        self,
        workspace_id: str,
        crew_id: str,
        inputs: dict[str, Any],
        *,
        conversation_id: str = "",
    ) -> AsyncIterator[CrewEvent]:
        """Run a stored crew; yields its events (see :mod:`agents.events`).

        Before the first event it raises ChorusError for a crew that is not found,
        bad inputs, no model or a missing tool; once running it does not raise: a
        failure is an ``error`` event followed by ``crew_finished`` (failed).
        """
        prepared = await self._prepare(workspace_id, crew_id, inputs)
        run = CrewRunRecord(
            crew_id=crew_id, workspace_id=workspace_id, model=prepared.model, inputs=prepared.inputs
        )
        await self.store.save_run(run)
        log.info("crew_run_started", run_id=run.id, crew_id=crew_id, model=prepared.model)
        finished = False
        try:
            credential = {"api_key": self._credential(workspace_id)} if self._credential else {}
            async for event in self.runner().run(
                prepared.record.spec,
                prepared.inputs,
                run_id=run.id,
                crew_id=crew_id,
                model=prepared.model,
                tools=prepared.tools,
                conversation_id=conversation_id,
                **credential,
            ):
                if event.type == "crew_task_finished":
                    run.tasks.append(
                        CrewTaskRunRecord(
                            task_id=event.task_id,
                            agent_id=event.agent_id,
                            status=event.status,
                            output=event.output,
                            error=event.error,
                            elapsed_ms=event.elapsed_ms,
                        )
                    )
                elif event.type == "crew_finished":
                    finished = True
                    run.status = event.status
                    run.outputs = dict(event.outputs)
                    run.final_output = event.final_output
                    run.error, run.error_code = event.error, event.error_code
                    run.total_tokens, run.elapsed_ms = event.total_tokens, event.elapsed_ms
                    run.finished_at = utcnow()
                    await self._save(run)
                    log.info(
                        "crew_run_finished",
                        run_id=run.id,
                        status=run.status,
                        ms=round(run.elapsed_ms),
                        tokens=run.total_tokens,
                    )
                yield event
        finally:
            if not finished:
                run.status, run.error_code = "failed", error_codes.RUN_STOPPED
                run.error, run.finished_at = "the run was stopped before it finished", utcnow()
                await self._save(run)

    async def _save(self, run: CrewRunRecord) -> None:
        try:
            await self.store.save_run(run)
        except ChorusError as exc:
            log.warning("crew_run_not_saved", run_id=run.id, error=exc.message)

    async def run_to_end(
        self, workspace_id: str, crew_id: str, inputs: dict[str, Any], **kw: Any
    ) -> dict[str, Any]:
        """Run and wait: the run's id, status, outputs per task, final output and error."""
        result: dict[str, Any] = {}
        error: dict[str, Any] | None = None
        async for event in self.run(workspace_id, crew_id, inputs, **kw):
            if event.type == "error":
                error = {"code": event.code, "message": event.message, "details": event.details}
            elif event.type == "crew_finished":
                result = {
                    "run_id": event.run_id,
                    "crew_id": event.crew_id,
                    "status": event.status,
                    "outputs": event.outputs,
                    "final_output": event.final_output,
                    "error": error,
                    "elapsed_ms": event.elapsed_ms,
                    "total_tokens": event.total_tokens,
                }
        return result
