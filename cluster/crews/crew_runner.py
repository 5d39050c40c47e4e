"""Runs a :class:`~agents.crews.spec.CrewSpec` with CrewAI against an OpenAI-compatible
endpoint (the gateway's ``/v1``), streaming the run as typed events.

The model: ``LLM(model="openai/<model>", base_url=<gateway>/v1, api_key=...)``. In
CrewAI 1.15 an ``openai/`` model that is not one of OpenAI's own, given with a
``base_url``, routes to the native OpenAI provider with ``custom_openai=True``
(``crewai.llm.LLM._resolve_route``): an ``OpenAICompletion`` on the ``openai`` SDK
that calls ``/chat/completions`` at that URL. LiteLLM is never imported (it is not
even installed); :func:`build_llm` refuses anything but that provider.

Offline: :func:`cluster.crews.offline.keep_crewai_offline` must have switched off
CrewAI's telemetry, trace upload, first-run prompt and version check before this
module is imported (the composition root and ``lazy_runner`` do); importing it
otherwise is refused.

The run: ``Crew.kickoff`` is synchronous, so it runs in a thread of its own. While it
runs, handlers on CrewAI's event bus (:mod:`cluster.crews.event_bridge`) turn
CrewAI's events into ours and hand them to the caller's event loop through an
asyncio queue; the run's last event is made here from what ``kickoff`` returned or
raised.

Stopping: closing the event stream (a client that goes away) makes the crew's next
model call fail, which ends the crew; the thread cannot be killed mid-call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from agents import error_codes
from cluster.crews.offline import crewai_offline

if not crewai_offline():
    raise ImportError(
        "call cluster.crews.offline.keep_crewai_offline() before importing CrewAI modules"
    )

from crewai import LLM, Agent, Crew, CrewOutput, Process, Task  # noqa: E402 - after the env check
from crewai.events import crewai_event_bus  # noqa: E402
from crewai.llms.hooks.base import BaseInterceptor  # noqa: E402
from crewai.llms.providers.openai.completion import OpenAICompletion  # noqa: E402
from crewai.types.streaming import CrewStreamingOutput  # noqa: E402

from agents.crews.spec import CrewSpec  # noqa: E402
from agents.errors import ChorusError, UpstreamUnavailableError  # noqa: E402
from agents.events import (  # noqa: E402
    CrewAgentStep,
    CrewEvent,
    CrewFinished,
    CrewStarted,
    CrewTaskFinished,
    ErrorEvent,
)
from agents.tools.registry import ToolRegistry  # noqa: E402
from cluster.crews.crew_tool import CrewToolAdapter  # noqa: E402
from cluster.crews.event_bridge import (  # noqa: E402
    CrewIds,
    CrewRunIds,
    Handler,
    subscribe,
    unsubscribe,
)

log = structlog.get_logger(__name__)


def _not_token_estimate_notice(record: logging.LogRecord) -> bool:
    # CrewAI warns on every model call that an OpenAI-compatible server has no
    # token-count endpoint and it estimates instead; that is expected here.
    return "approximate input token count" not in record.getMessage()


logging.getLogger("crewai.llms.base_llm").addFilter(_not_token_estimate_notice)


def v1_url(gateway_url: str) -> str:
    """``gateway_url`` (the server's root, or its ``/v1``) as the OpenAI base URL."""
    url = gateway_url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class RunStopped(ChorusError):
    code = error_codes.RUN_STOPPED
    status_code = 499


class _StopSwitch(BaseInterceptor[httpx.Request, httpx.Response]):
    """Fails the crew's next model call once the run is stopped."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def on_outbound(self, message: httpx.Request) -> httpx.Request:
        if self.stopped.is_set():
            raise RunStopped("the crew run was stopped")
        return message

    def on_inbound(self, message: httpx.Response) -> httpx.Response:
        return message

    async def aon_outbound(self, message: httpx.Request) -> httpx.Request:
        return self.on_outbound(message)

    async def aon_inbound(self, message: httpx.Response) -> httpx.Response:
        return message


def build_llm(
    model: str,
    base_url: str,
    *,
    api_key: str,
    max_tokens: int | None = None,
    temperature: float | None = None,
    timeout_s: float = 600.0,
    interceptor: BaseInterceptor[httpx.Request, httpx.Response] | None = None,
) -> OpenAICompletion:
    """CrewAI's native OpenAI provider on ``base_url`` (never LiteLLM)."""
    options: dict[str, Any] = {"timeout": timeout_s, "max_retries": 1}
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    if temperature is not None:
        options["temperature"] = temperature
    if interceptor is not None:
        options["interceptor"] = interceptor
    llm = LLM(model=f"openai/{model}", base_url=base_url, api_key=api_key or "chorus", **options)
    if not isinstance(llm, OpenAICompletion) or getattr(llm, "is_litellm", False):
        raise ChorusError(
            f"CrewAI did not pick its native OpenAI provider for '{model}'",
            code=error_codes.CREW_LLM_UNSUPPORTED,
        )
    return llm


@dataclass
class _Kickoff:
    """What ``Crew.kickoff`` returned: the run's end, handed to the caller's loop."""

    output: CrewOutput | CrewStreamingOutput


@dataclass
class BuiltCrew:
    crew: Crew
    ids: CrewIds
    stop: _StopSwitch


class CrewRunner:
    """Builds and runs crews against one OpenAI-compatible endpoint.

    ``base_url`` is the endpoint (``.../v1``); ``api_key`` any non-empty key it takes.
    """

    def __init__(self, base_url: str, *, api_key: str = "chorus", timeout_s: float = 600.0):
        self.base_url = v1_url(base_url)
        self.api_key = api_key or "chorus"
        self.timeout_s = timeout_s

    def build(
        self,
        spec: CrewSpec,
        *,
        model: str,
        tools: ToolRegistry | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        stop: _StopSwitch | None = None,
        api_key: str | None = None,
    ) -> BuiltCrew:
        """The CrewAI objects of ``spec``; our tools are adapted (calls go to ``loop``)."""
        stop = stop or _StopSwitch()

        def llm(name: str) -> OpenAICompletion:
            return build_llm(
                name,
                self.base_url,
                api_key=api_key or self.api_key,
                max_tokens=spec.max_tokens,
                temperature=spec.temperature,
                timeout_s=self.timeout_s,
                interceptor=stop,
            )

        ids = CrewIds()
        agents: dict[str, Agent] = {}
        for agent_spec in spec.agents:
            adapters = [
                CrewToolAdapter.wrap((tools or ToolRegistry()).get(name), loop)
                for name in agent_spec.tools
            ]
            agent = Agent(
                role=agent_spec.role,
                goal=agent_spec.goal,
                backstory=agent_spec.backstory,
                tools=adapters,
                allow_delegation=agent_spec.allow_delegation,
                max_iter=agent_spec.max_iter,
                llm=llm(model),
                verbose=False,
            )
            agents[agent_spec.id] = agent
            ids.agents[str(agent.id)] = agent_spec.id
        tasks: dict[str, Task] = {}
        for task_spec in spec.tasks:
            options: dict[str, Any] = {}
            if task_spec.context is not None:
                options["context"] = [tasks[ref] for ref in task_spec.context]
            task = Task(
                name=task_spec.id,
                description=task_spec.description,
                expected_output=task_spec.expected_output,
                agent=agents[task_spec.agent],
                **options,
            )
            tasks[task_spec.id] = task
            ids.tasks[str(task.id)] = task_spec.id
            ids.task_agent[task_spec.id] = task_spec.agent
        crew_options: dict[str, Any] = {}
        if spec.process == "hierarchical":
            crew_options["process"] = Process.hierarchical
            crew_options["manager_llm"] = llm(spec.manager_model or model)
        else:
            crew_options["process"] = Process.sequential
        crew = Crew(
            name=spec.name,
            agents=list(agents.values()),
            tasks=list(tasks.values()),
            verbose=False,
            memory=False,
            tracing=False,
            **crew_options,
        )
        return BuiltCrew(crew=crew, ids=ids, stop=stop)

    async def run(
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
        """Run the crew; yields crew_started, the tasks' events, and crew_finished last.

        A failure (a model call, a tool, CrewAI itself) yields an ``error`` event and
        then ``crew_finished`` with status ``failed``; this generator does not raise.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[CrewEvent | _Kickoff | BaseException] = asyncio.Queue()
        base = CrewRunIds(conversation_id=conversation_id, run_id=run_id, crew_id=crew_id)
        started = time.perf_counter()
        yield CrewStarted(
            **base,
            crew_name=spec.name,
            process=spec.process,
            model=model,
            inputs=inputs,
            tasks=[t.id for t in spec.tasks],
        )
        stop = _StopSwitch()

        def put(item: CrewEvent | _Kickoff | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the caller's loop is gone; nobody is listening
                pass

        def work() -> None:
            handlers: list[Handler] = []
            try:
                built = self.build(
                    spec, model=model, tools=tools, loop=loop, stop=stop, api_key=api_key
                )
                handlers = subscribe(built.ids, base, put)
                output = built.crew.kickoff(inputs=dict(inputs))
                crewai_event_bus.flush(timeout=30)
                put(_Kickoff(output))
            except BaseException as exc:  # noqa: BLE001 - every failure becomes events
                crewai_event_bus.flush(timeout=30)
                put(exc)
            finally:
                unsubscribe(handlers)

        thread = threading.Thread(target=work, name=f"crew-{run_id}", daemon=True)
        thread.start()
        outputs: dict[str, str] = {}
        tokens = 0
        finished = False
        try:
            while True:
                item = await queue.get()
                if not isinstance(item, _Kickoff | BaseException):  # one of the run's events
                    if isinstance(item, CrewTaskFinished) and item.status == "succeeded":
                        outputs[item.task_id] = item.output
                    if isinstance(item, CrewAgentStep):
                        tokens += item.prompt_tokens + item.completion_tokens
                    yield item
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                finished = True
                if isinstance(item, _Kickoff):
                    final, usage = _final(item.output, spec, outputs)
                    yield CrewFinished(
                        **base,
                        status="succeeded",
                        outputs=outputs,
                        final_output=final,
                        elapsed_ms=elapsed,
                        total_tokens=usage or tokens,
                    )
                else:
                    error = _as_chorus_error(item)
                    log.warning("crew_run_failed", run_id=run_id, crew_id=crew_id, error=repr(item))
                    yield ErrorEvent(
                        conversation_id=conversation_id,
                        code=error.code,
                        message=error.message,
                        details=error.details,
                        run_id=run_id,
                    )
                    yield CrewFinished(
                        **base,
                        status="failed",
                        outputs=outputs,
                        error=error.message,
                        error_code=error.code,
                        elapsed_ms=elapsed,
                        total_tokens=tokens,
                    )
                return
        finally:
            if not finished:
                stop.stopped.set()
                log.info("crew_run_stopped", run_id=run_id, crew_id=crew_id)


def _final(
    output: CrewOutput | CrewStreamingOutput, spec: CrewSpec, outputs: dict[str, str]
) -> tuple[str, int]:
    """The crew's final text and token count; fills task outputs the events missed."""
    tasks_output = list(getattr(output, "tasks_output", None) or [])
    for task_spec, task_output in zip(spec.tasks, tasks_output, strict=False):
        outputs.setdefault(task_spec.id, str(getattr(task_output, "raw", "") or ""))
    usage = getattr(output, "token_usage", None)
    return str(getattr(output, "raw", "") or ""), int(getattr(usage, "total_tokens", 0) or 0)


def _as_chorus_error(exc: BaseException) -> ChorusError:
    """A crew failure as one of our errors (the message is safe to show).

    Ours (a tool's, a stop) wins wherever it is in the chain of causes; then the
    endpoint's own error body (e.g. model_not_found); then "unreachable".
    """
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and all(cause is not seen for seen in chain):
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for cause in chain:
        if isinstance(cause, ChorusError):
            return cause
    for cause in chain:
        body = getattr(cause, "body", None)
        if isinstance(getattr(cause, "status_code", None), int) and isinstance(body, dict):
            detail = body.get("error", body)
            if isinstance(detail, dict) and detail.get("message"):
                return ChorusError(
                    f"the model endpoint refused a call: {str(detail['message'])[:500]}",
                    code=str(detail.get("code") or "crew_llm_failed"),
                )
    for cause in chain:
        if isinstance(cause, ConnectionError) or type(cause).__name__ in (
            "APIConnectionError",
            "APITimeoutError",
            "ConnectError",
        ):
            return UpstreamUnavailableError(
                "the model endpoint did not answer; try again shortly",
                code=error_codes.CREW_LLM_UNAVAILABLE,
            )
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ChorusError(f"the crew failed: {text[:500]}", code=error_codes.CREW_FAILED)
