"""Crews run by CrewAI on the real local model, with our events, tools and stores.

CrewAI talks to a small in-test OpenAI-compatible front (``MiniGateway``) over the
llama.cpp engine process: it stands in for the gateway (it emulates tool calls
the same way, through the shared engine client) and records every request CrewAI
sends, so the tests can read the prompts. While a crew runs, every DNS look-up
and socket connect in the process is recorded: nothing may leave 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

with warnings.catch_warnings():
    # crewai's import triggers an ImportWarning inside importlib (crewai.rag blocks
    # setattr); pyproject should filter it by message, until then: here. Imported
    # through our runner, as the server does, so CrewAI starts offline.
    warnings.simplefilter("ignore", ImportWarning)
    import cluster.crews.crew_runner  # noqa: F401

from agents.crews.records import CrewRecord, CrewRunRecord, CrewTaskRunRecord
from agents.crews.service import CrewService
from agents.crews.spec import CrewSpec, parse_crew_spec
from agents.engine import ChatRequest
from agents.errors import ChorusError, NotFoundError
from agents.events import CrewEvent
from agents.tools.base import BaseTool, ToolArgumentsError
from agents.tools.registry import ToolRegistry
from channels import crews_api
from channels.errors import install_error_handlers
from cluster.crews.crew_runner import build_llm
from cluster.crews.crew_tool import CrewToolAdapter
from cluster.engines.openai_engine import OpenAICompatibleEngine
from cluster.runtime import lazy_runner
from tests.integration.conftest import TINY
from tests.integration.edge import keyed
from tests.integration.named_stores import CrewStoreProtocol, InMemoryCrewStore, SqlCrewStore
from tests.integration.stores import StoreOpener

pytestmark = [
    pytest.mark.integration,
    # CrewAI reads its own deprecated fields (function_calling_llm) on every run;
    # pytest turns warnings into errors process-wide, the crew's thread included.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:crewai.*"),
]
MODEL = TINY.name
LOOPBACK = {"127.0.0.1", "::1", "localhost", None}


# -- a gateway stand-in that records what CrewAI sends ---------------------------------


@dataclass
class MiniGateway:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: Make the model call a tool on a task's first turn (tool_choice "required").
    force_tool_call: bool = False

    def prompts(self) -> list[str]:
        """Each request's messages as one text."""
        return [
            "\n".join(str(m.get("content") or "") for m in body["messages"])
            for body in self.requests
        ]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
async def gateway(llama_engine: OpenAICompatibleEngine) -> AsyncIterator[MiniGateway]:
    sock = _free_socket()
    front = MiniGateway(url=f"http://127.0.0.1:{sock.getsockname()[1]}")

    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        front.requests.append(body)
        chat_request = ChatRequest.model_validate(body)
        first_turn = not any(m.role == "tool" for m in chat_request.messages)
        if front.force_tool_call and chat_request.tools and first_turn:
            chat_request = chat_request.model_copy(update={"tool_choice": "required"})
        try:
            completion = await llama_engine.chat(chat_request)
        except ChorusError as exc:
            return JSONResponse(exc.to_openai(), status_code=exc.status_code)
        return JSONResponse(completion.model_dump(mode="json", exclude_none=True))

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    yield front
    server.should_exit = True
    await task
    sock.close()


# -- no outbound connections -------------------------------------------------------------


def record_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every DNS look-up and TCP connect in this process from now on."""
    hosts: list[Any] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def note(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            hosts.append(address[0])

    def connect(self: socket.socket, address: Any) -> None:
        note(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        note(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        hosts.append(host.decode() if isinstance(host, bytes) else host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return hosts


# -- crews and tools ---------------------------------------------------------------------


def two_agent_spec(**extra: Any) -> CrewSpec:
    return parse_crew_spec(
        {
            "name": "tea notes",
            "inputs": ["topic"],
            "max_tokens": 40,
            "temperature": 0,
            "agents": [
                {"id": "researcher", "role": "Researcher", "goal": "Collect facts about {topic}",
                 "backstory": "You note short facts.", "max_iter": 1},
                {"id": "writer", "role": "Writer", "goal": "Write one short sentence",
                 "backstory": "You write plainly.", "max_iter": 1},
            ],
            "tasks": [
                {"id": "research", "description": "Give one fact about {topic}.",
                 "expected_output": "One fact.", "agent": "researcher"},
                {"id": "write", "description": "Write one sentence about {topic} for a blog.",
                 "expected_output": "One sentence.", "agent": "writer", "context": ["research"]},
            ],
            **extra,
        }
    )  # fmt: skip


class WeatherTool(BaseTool):
    name = "weather"
    description = "Today's weather in a city."
    parameters = {  # noqa: RUF012
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Tokyo"]}},
        "required": ["city"],
        "additionalProperties": False,
    }

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], int]] = []

    async def run(self, arguments: dict[str, Any]) -> Any:
        self.calls.append((arguments, threading.get_ident()))
        return {"city": arguments["city"], "sky": "sunny", "celsius": 21}


def service_for(
    gateway_url: str, *tools: BaseTool, store: CrewStoreProtocol | None = None
) -> CrewService:
    registry = ToolRegistry(tools).freeze()
    return CrewService(
        store or InMemoryCrewStore(),
        runner=lazy_runner(gateway_url),
        default_model=MODEL,
        tools_for=lambda workspace: registry,
    )


def of_type(events: list[CrewEvent], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


def join_crew_threads(timeout_s: float = 60.0) -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("crew-"):
            thread.join(timeout_s)


# -- the tests ---------------------------------------------------------------------------


def test_crewai_uses_its_native_openai_provider_not_litellm() -> None:
    from crewai.llms.providers.openai.completion import OpenAICompletion

    llm = build_llm(MODEL, "http://127.0.0.1:9/v1", api_key="x", max_tokens=8)
    assert type(llm) is OpenAICompletion
    assert llm.custom_openai and llm.api == "completions"
    assert llm.model == MODEL and llm.max_tokens == 8
    assert "litellm" not in sys.modules


def test_crewai_is_kept_offline() -> None:
    from crewai.events.listeners.tracing.utils import (
        should_auto_collect_first_time_traces,
        should_enable_tracing,
    )
    from crewai.telemetry import Telemetry

    from cluster.crews.offline import OFFLINE_ENV

    assert all(os.environ[name] == value for name, value in OFFLINE_ENV.items())
    assert Telemetry._is_telemetry_disabled()
    assert not Telemetry().ready  # no exporter to CrewAI's collector was ever built
    assert not should_enable_tracing() and not should_auto_collect_first_time_traces()


async def test_two_agent_sequential_crew_runs_end_to_end(
    gateway: MiniGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = service_for(gateway.url)
    crew = await service.create("ws", two_agent_spec())
    gateway.requests.clear()
    hosts = record_network(monkeypatch)
    started = time.perf_counter()
    events = [e async for e in service.run("ws", crew.id, {"topic": "green tea"})]
    elapsed = time.perf_counter() - started
    monkeypatch.undo()

    assert events[0].type == "crew_started" and events[-1].type == "crew_finished"
    finished = events[-1]
    assert finished.status == "succeeded", finished
    assert [e.task_id for e in of_type(events, "crew_task_started")] == ["research", "write"]
    done = of_type(events, "crew_task_finished")
    assert [(e.task_id, e.status) for e in done] == [
        ("research", "succeeded"),
        ("write", "succeeded"),
    ]
    steps = of_type(events, "crew_agent_step")
    for task_id, agent_id in (("research", "researcher"), ("write", "writer")):
        mine = [s.step for s in steps if s.task_id == task_id and s.agent_id == agent_id]
        assert mine[0] == "agent_started" and mine[-1] == "agent_finished", mine
        assert "llm_started" in mine and "llm_finished" in mine
    research, write = (finished.outputs[t].strip() for t in ("research", "write"))
    assert research and write
    assert finished.final_output.strip() == write
    assert {e.task_id: e.output for e in done} == finished.outputs
    assert not of_type(events, "error")

    # The writer got the researcher's output as context: in CrewAI's event and on the wire.
    writer_start = of_type(events, "crew_task_started")[1]
    assert research in writer_start.context
    writer_prompts = [p for p in gateway.prompts() if "Writer" in p]
    assert writer_prompts and all(research in p for p in writer_prompts)
    assert not any(research in p for p in gateway.prompts() if "Writer" not in p)
    assert all(body["max_tokens"] == 40 and body["model"] == MODEL for body in gateway.requests)

    # Nothing but loopback, and the run is stored.
    assert hosts and set(hosts) <= LOOPBACK, set(hosts)
    run = await service.get_run("ws", finished.run_id)
    assert run.status == "succeeded" and run.outputs == finished.outputs
    assert [t.task_id for t in run.tasks] == ["research", "write"]
    assert run.inputs == {"topic": "green tea"} and run.model == MODEL
    assert elapsed < 120
    assert "litellm" not in sys.modules  # CrewAI's fallback was never loaded


async def test_concurrent_runs_keep_their_own_events(gateway: MiniGateway) -> None:
    service = service_for(gateway.url)
    crew = await service.create("ws", two_agent_spec())

    async def collect(topic: str) -> list[CrewEvent]:
        return [e async for e in service.run("ws", crew.id, {"topic": topic})]

    first, second = await asyncio.gather(collect("oolong"), collect("matcha"))
    for events in (first, second):
        run_id = events[0].run_id
        assert all(e.run_id == run_id for e in events)
        assert len(of_type(events, "crew_task_started")) == 2
        assert len(of_type(events, "crew_task_finished")) == 2
        assert events[-1].type == "crew_finished" and events[-1].status == "succeeded"
    assert first[0].run_id != second[0].run_id
    assert "oolong" in of_type(first, "crew_task_started")[0].description
    assert "matcha" in of_type(second, "crew_task_started")[0].description


async def test_the_adapter_calls_our_tool_on_the_servers_loop() -> None:
    tool = WeatherTool()
    loop = asyncio.get_running_loop()
    adapter = CrewToolAdapter.wrap(tool, loop)
    assert adapter.name == "weather" and "Today's weather in a city." in adapter.description
    assert set(adapter.args_schema.model_fields) == {"city"}
    # From a worker thread (as CrewAI calls it): the call runs on our loop's thread.
    result = await asyncio.to_thread(adapter.run, city="Tokyo")
    assert json.loads(result) == {"city": "Tokyo", "sky": "sunny", "celsius": 21}
    assert tool.calls == [({"city": "Tokyo"}, threading.get_ident())]
    # Our schema is the one that counts: a bad argument is our ToolArgumentsError.
    with pytest.raises(ToolArgumentsError, match="city"):
        await asyncio.to_thread(adapter._run, city="Rome")
    # Without a loop (a script), it runs the call on a loop of its own.
    assert "Paris" in await asyncio.to_thread(CrewToolAdapter.wrap(tool).run, city="Paris")
    # Called on a running loop, it does not block that loop.
    assert "Paris" in CrewToolAdapter.wrap(tool)._run(city="Paris")


async def test_an_agent_calls_a_tool_from_our_registry(
    gateway: MiniGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = WeatherTool()
    service = service_for(gateway.url, tool)
    spec = parse_crew_spec(
        {
            "name": "forecast",
            "max_tokens": 48,
            "temperature": 0,
            "agents": [{"id": "forecaster", "role": "Forecaster", "goal": "Report the weather",
                        "backstory": "You use the weather tool.", "tools": ["weather"],
                        "max_iter": 2}],
            "tasks": [{"id": "report", "description": "What is the weather in Paris today?",
                       "expected_output": "The weather in Paris.", "agent": "forecaster"}],
        }
    )  # fmt: skip
    crew = await service.create("ws", spec)
    hosts = record_network(monkeypatch)
    gateway.force_tool_call = True
    try:
        events = [e async for e in service.run("ws", crew.id, {})]
    finally:
        gateway.force_tool_call = False
        monkeypatch.undo()

    assert tool.calls, "the agent never called the tool"
    assert tool.calls[0][1] == threading.get_ident()  # on the server's loop
    calls = of_type(events, "crew_tool_call")
    assert [c.status for c in calls][:2] == ["started", "finished"], calls
    assert calls[0].tool == "weather" and calls[0].agent_id == "forecaster"
    assert calls[0].task_id == "report" and calls[0].arguments in ({"city": "Paris"},
                                                                     {"city": "Tokyo"})  # fmt: skip
    assert "sunny" in (calls[1].output or "")
    assert events[-1].type == "crew_finished" and events[-1].status == "succeeded", events[-1]
    assert set(hosts) <= LOOPBACK, set(hosts)


async def test_a_failing_model_is_an_error_event_then_a_failed_finish() -> None:
    closed = _free_socket()  # bound, never listening: connections are refused
    service = service_for(f"http://127.0.0.1:{closed.getsockname()[1]}")
    try:
        crew = await service.create("ws", two_agent_spec())
        events = [e async for e in service.run("ws", crew.id, {"topic": "tea"})]
    finally:
        closed.close()
    assert [e.type for e in events[-2:]] == ["error", "crew_finished"]
    error, finished = events[-2], events[-1]
    assert error.code == "crew_llm_unavailable" and error.run_id == finished.run_id
    assert finished.status == "failed" and finished.error_code == "crew_llm_unavailable"
    run = await service.get_run("ws", finished.run_id)
    assert run.status == "failed" and run.error_code == "crew_llm_unavailable"


def test_endpoint_errors_keep_their_code() -> None:
    import openai

    from cluster.crews.crew_runner import _as_chorus_error

    request = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    body = {"message": "model 'big' not found", "code": "model_not_found"}
    refused = openai.NotFoundError(
        "Error code: 404", response=httpx.Response(404, request=request), body=body
    )
    try:
        raise RuntimeError("CrewAI's wrapper") from refused
    except RuntimeError as wrapped:
        error = _as_chorus_error(wrapped)
    assert error.code == "model_not_found" and "model 'big' not found" in error.message
    tool_failure = ToolArgumentsError("weather: city: 'Rome' is not one of ['Paris', 'Tokyo']")
    assert _as_chorus_error(RuntimeError("x")).code == "crew_failed"
    try:
        raise ValueError("wrapped") from tool_failure
    except ValueError as wrapped:
        assert _as_chorus_error(wrapped) is tool_failure


async def test_bad_runs_are_refused_before_the_first_event(gateway: MiniGateway) -> None:
    service = service_for(gateway.url)
    crew = await service.create("ws", two_agent_spec())
    with pytest.raises(ChorusError) as missing:
        await anext(service.run("ws", crew.id, {}))
    assert missing.value.param == "inputs.topic"
    with pytest.raises(NotFoundError):
        await anext(service.run("other", crew.id, {"topic": "tea"}))
    with pytest.raises(ChorusError) as unknown_tool:
        agents = [
            {"id": "researcher", "role": "R", "goal": "G {topic}", "backstory": "B",
             "tools": ["nope"]},
            {"id": "writer", "role": "W", "goal": "G", "backstory": "B"},
        ]  # fmt: skip
        await service.create("ws", two_agent_spec(agents=agents))
    assert unknown_tool.value.param == "agents.0.tools.0"
    assert unknown_tool.value.code == "tool_not_found"


async def test_closing_the_stream_stops_the_run(gateway: MiniGateway) -> None:
    store = InMemoryCrewStore()
    service = service_for(gateway.url, store=store)
    crew = await service.create("ws", two_agent_spec())
    gateway.requests.clear()
    stream = service.run("ws", crew.id, {"topic": "tea"})
    async for event in stream:
        if event.type == "crew_agent_step" and event.step == "llm_started":
            break  # the researcher's model call is under way
    await stream.aclose()
    await asyncio.to_thread(join_crew_threads)
    assert not [t for t in threading.enumerate() if t.name == f"crew-{event.run_id}"]
    # At most the call under way reached the model; no later one (a retry, the writer).
    assert len(gateway.requests) <= 1
    assert not any("Writer" in p for p in gateway.prompts())
    run = store.runs[event.run_id]
    assert run.status == "failed" and run.error_code == "run_stopped"


# -- the REST API ------------------------------------------------------------------------


@pytest.fixture
async def crews_app() -> AsyncIterator[tuple[FastAPI, dict[str, dict[str, str]]]]:
    """The crews router with a service whose model is unreachable, and keys of the
    workspaces 'a' and 'b'."""
    closed = _free_socket()
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(crews_api.router)
    app.state.services = SimpleNamespace(
        crews=service_for(f"http://127.0.0.1:{closed.getsockname()[1]}")
    )
    yield app, await keyed(app, "a", "b")
    closed.close()


@pytest.fixture
async def api(
    crews_app: tuple[FastAPI, dict[str, dict[str, str]]],
) -> AsyncIterator[httpx.AsyncClient]:
    app, keys = crews_app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://chorus", headers=keys["a"]
    ) as client:
        yield client


async def test_the_api_creates_lists_runs_and_deletes(
    api: httpx.AsyncClient, crews_app: tuple[FastAPI, dict[str, dict[str, str]]]
) -> None:
    in_b = crews_app[1]["b"]
    body = two_agent_spec().model_dump(mode="json")
    bad = json.loads(json.dumps(body))
    bad["tasks"][1]["agent"] = "ghost"
    refused = await api.post("/api/crews", json=bad)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "tasks.1.agent"
    check = (await api.post("/api/crews/validate", json=bad)).json()
    assert check["valid"] is False and check["errors"][0]["field"] == "tasks.1.agent"

    created = await api.post("/api/crews", json=body)
    assert created.status_code == 201
    crew_id = created.json()["id"]
    assert [c["id"] for c in (await api.get("/api/crews")).json()["data"]] == [crew_id]
    assert (await api.get(f"/api/crews/{crew_id}")).json()["spec"]["name"] == "tea notes"
    assert (await api.get("/api/crews", headers=in_b)).json()["data"] == []

    missing_input = await api.post(f"/api/crews/{crew_id}/run", json={"stream": True})
    assert missing_input.status_code == 400  # before any stream starts
    assert missing_input.json()["error"]["param"] == "inputs.topic"

    blocking = await api.post(f"/api/crews/{crew_id}/run", json={"inputs": {"topic": "t"}})
    assert blocking.status_code == 200
    result = blocking.json()
    assert result["status"] == "failed" and result["error"]["code"] == "crew_llm_unavailable"
    stored = (await api.get(f"/api/crews/runs/{result['run_id']}")).json()
    assert stored["status"] == "failed" and stored["crew_id"] == crew_id

    streamed = await api.post(
        f"/api/crews/{crew_id}/run", json={"inputs": {"topic": "t"}, "stream": True}
    )
    assert streamed.headers["content-type"].startswith("text/event-stream")
    kinds = [
        line[len("event: ") :] for line in streamed.text.splitlines() if line.startswith("event: ")
    ]
    assert kinds[0] == "crew_started" and kinds[-2:] == ["error", "crew_finished"]

    assert (await api.delete(f"/api/crews/{crew_id}")).status_code == 204
    assert (await api.get(f"/api/crews/{crew_id}")).status_code == 404
    assert (await api.get(f"/api/crews/runs/{result['run_id']}")).status_code == 200


# -- the stores: SQL and in-memory behave alike ------------------------------------------


@pytest.fixture
async def store(open_store: StoreOpener) -> CrewStoreProtocol:
    return await open_store(InMemoryCrewStore, SqlCrewStore)


async def test_crews_and_runs_are_scoped_by_workspace(store: CrewStoreProtocol) -> None:
    record = await store.create_crew(CrewRecord(workspace_id="ws1", spec=two_agent_spec()))
    assert (await store.get_crew("ws1", record.id)).spec == two_agent_spec()
    with pytest.raises(NotFoundError):
        await store.get_crew("ws2", record.id)
    assert [c.id for c in await store.list_crews("ws1")] == [record.id]
    assert await store.list_crews("ws2") == []

    run = CrewRunRecord(crew_id=record.id, workspace_id="ws1", inputs={"topic": "t"})
    await store.save_run(run)
    run.status, run.outputs = "succeeded", {"research": "a", "write": "b"}
    run.tasks = [CrewTaskRunRecord(task_id="research", status="succeeded", output="a")]
    await store.save_run(run)
    assert await store.get_run("ws1", run.id) == run
    with pytest.raises(NotFoundError):
        await store.get_run("ws2", run.id)
    assert [r.id for r in await store.list_runs("ws1", record.id)] == [run.id]

    await store.delete_crew("ws1", record.id)
    with pytest.raises(NotFoundError):
        await store.get_crew("ws1", record.id)
    assert (await store.get_run("ws1", run.id)).status == "succeeded"  # history stays
