"""The Ray Serve ingress: one FastAPI app composing every HTTP surface of Chorus.

``ray_config.yaml`` names :func:`build_app` by import path; it reads
:class:`cluster.settings.ChorusSettings` and binds one engine deployment per
configured chat model, the embedding deployment and this gateway, whose replicas
build their services with :func:`cluster.runtime.build_services`.
"""

# No "from __future__ import annotations": FastAPI must see the real types of the
# methods that @serve.ingress wraps.
import asyncio
from typing import Any

import httpx
import structlog
from fastapi import Request, Response, WebSocket
from fastapi.responses import PlainTextResponse
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle
from starlette.requests import HTTPConnection

from agents.accounts.errors import ForbiddenError
from agents.accounts.records import Principal
from agents.engine import ChatRequest
from channels.app_completions import PREFIX as APP_PREFIX
from channels.app_completions import AppCompletions
from channels.auth import (
    CHAT,
    OPERATOR,
    PUBLIC,
    READ,
    USE,
    WRITE,
    Edge,
    Policy,
    confine_to_app,
    requires,
)
from channels.limits import TurnLimits
from channels.openai_api import ModelList, OpenAIApi, parse_body
from channels.routes import build_http_app
from channels.webapp_api import end_user_may_chat
from channels.ws_chat import WsChatSession
from cluster.accounts import first_start
from cluster.engines.deployments import (
    ChatEngineDeployment,
    EmbeddingDeployment,
    chat_engine_options,
)
from cluster.engines.engine_metrics import merged
from cluster.engines.handle_engine import call
from cluster.knowledge.knowledge_worker import WorkerQueue
from cluster.limits import Lease, Limiter
from cluster.log_config import configure_logging
from cluster.runtime import build_services
from cluster.sessions.session_router import SessionRouter
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
app = build_http_app()


def metrics_policy(conn: HTTPConnection) -> Policy:
    """/metrics: public when the settings say so, else instance operators only."""
    public = conn.app.state.services.settings.metrics_public
    return PUBLIC if public else OPERATOR


async def _node_metrics() -> str:
    """The Prometheus text of this node's Ray metrics agent (Chorus and Ray metrics)."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    node = next((n for n in ray.nodes() if n["NodeID"] == node_id), None)
    if node is None or not node.get("MetricsExportPort"):
        return "# metrics agent not available on this node\n"
    url = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
    async with httpx.AsyncClient(timeout=5) as client:
        resp = await client.get(url)
    return resp.text


@serve.deployment(
    max_ongoing_requests=1000, ray_actor_options={"num_cpus": 0}, health_check_period_s=10
)
@serve.ingress(app)
class Gateway:
    """Stateless HTTP front door; scale it with ``gateway_replicas``."""

    # Serve awaits an async __init__; mypy wants __init__ to return None.
    async def __init__(  # type: ignore[misc]
        self,
        engines: dict[str, DeploymentHandle[ChatEngineDeployment]],
        embedders: dict[str, DeploymentHandle[EmbeddingDeployment]],
        settings: ChorusSettings,
    ) -> None:
        configure_logging(settings.log_level, settings.log_json)
        self.settings = settings
        self.engines = engines
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app_name = serve.get_replica_context().app_name
        self.services = build_services(
            settings, app_name, ingestion=WorkerQueue(settings, app_name)
        )
        self.openai = OpenAIApi(
            engines,
            embedders,
            settings.max_request_bytes,
            direct=self.services.direct,
            batches=settings.stream_batches(),
        )
        await self.services.start()  # migrates to head before any shard connects
        self.sessions = SessionRouter(settings, app_name)
        self.limits = TurnLimits(
            Limiter(settings.resolved_database_url(), app_name), self.services.stores.conversations
        )
        self.apps = AppCompletions(
            self.services.stores.conversations, self.sessions, limits=self.limits
        )
        app.state.limits = self.limits
        app.state.services = self.services
        app.state.sessions = self.sessions
        app.state.edge = Edge(self.services.accounts)
        login_file = await first_start(self.services.accounts, settings)
        if login_file is not None:
            log.warning("first_user_password_written", path=str(login_file))

    @app.get("/healthz", summary="Liveness and model readiness")
    async def healthz(self, _: None = requires(PUBLIC)) -> Response:
        return await self.openai.health()

    @app.get("/v1/models", summary="List the models served", response_model_by_alias=False)
    async def models(self, _: Principal = requires(USE)) -> ModelList:
        return await self.openai.models()

    @app.post("/v1/chat/completions", summary="OpenAI chat completions (models or app:<id>)")
    async def chat_completions(self, request: Request, who: Principal = requires(CHAT)) -> Response:
        req = await parse_body(request, ChatRequest, self.settings.max_request_bytes)
        assert who.workspace_id is not None  # CHAT admits no caller without one
        if req.model.startswith(APP_PREFIX):
            confine_to_app(who, req.model.removeprefix(APP_PREFIX))
            await end_user_may_chat(self.services, who)
            return await self.apps.handle(req, who.workspace_id, who=who)
        if who.app_id is not None:
            raise ForbiddenError(
                f"an app key or end user talks to its own app only: use model "
                f"'{APP_PREFIX}{who.app_id}'"
            )
        return await self.openai.chat_completions(req, await self.limits.completion(who))

    @app.websocket("/ws/chat")
    async def ws_chat(self, ws: WebSocket, who: Principal = requires(CHAT)) -> None:
        assert who.workspace_id is not None  # CHAT admits no caller without one
        await end_user_may_chat(self.services, who)
        owner = who.owner()
        conversations = self.services.stores.conversations

        async def owns(conversation_id: str) -> bool:
            found = await conversations.get_conversation(str(who.workspace_id), conversation_id)
            return found.user_id == owner

        async def admit_turn(app_id: str) -> Lease | None:
            return await self.limits.turn(who, str(who.workspace_id), app_id)

        session = WsChatSession(
            ws,
            self.sessions,
            who.workspace_id,
            self.settings.max_message_chars,
            only_app=who.app_id,
            owner=owner,
            owns=owns if owner is not None else None,
            may_draft=WRITE.admits(who),
            admit_turn=admit_turn,
            send_buffer_frames=self.settings.ws_send_buffer_frames,
            slow_reader_timeout_s=self.settings.ws_slow_reader_timeout_s,
        )
        await session.serve()

    @app.post("/v1/embeddings", summary="OpenAI embeddings")
    async def embeddings(self, request: Request, _: Principal = requires(READ)) -> Response:
        return await self.openai.embeddings(request)

    @app.get(
        "/metrics",
        summary="Prometheus metrics of this node and of the model servers",
        response_class=PlainTextResponse,
    )
    async def prometheus(self, _: None = requires(metrics_policy)) -> Response:
        engines = await asyncio.gather(
            *(call(h.engine_metrics.remote()) for h in self.engines.values()),
            return_exceptions=True,  # a restarting engine leaves its metrics out, not ours
        )
        text = await _node_metrics() + merged([e for e in engines if isinstance(e, str) and e])
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


def build_app(args: dict[str, Any] | None = None) -> Application:
    """Application builder for ``serve run``/``chorus serve``: args override settings.

    ``@serve.deployment`` makes each class a ``Deployment``, which mypy does not see
    (it does not apply class decorators): hence the ``attr-defined`` ignores below.
    """
    settings = ChorusSettings(**(args or {}))
    configure_logging(settings.log_level, settings.log_json)
    engines: dict[str, Application] = {
        e.name: ChatEngineDeployment.options(  # type: ignore[attr-defined]
            **chat_engine_options(e)
        ).bind(e, settings.log_level, settings.stream_batches())
        for e in settings.engines
    }
    embedders: dict[str, Application] = {
        settings.embedding.name: EmbeddingDeployment.options(  # type: ignore[attr-defined]
            num_replicas=settings.embedding.num_replicas
        ).bind(settings.embedding, settings.log_level)
    }
    gateway: Application = Gateway.options(  # type: ignore[attr-defined]
        num_replicas=settings.gateway_replicas,
        max_ongoing_requests=settings.gateway_max_ongoing_requests,
    ).bind(engines, embedders, settings)
    return gateway
