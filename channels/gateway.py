"""The Ray Serve ingress: one FastAPI app composing every HTTP surface of Chorus.

``ray_config.yaml`` names :func:`build_app` by import path; it reads
:class:`cluster.settings.ChorusSettings` and binds one engine deployment per
configured chat model, the embedding deployment and this gateway.
"""

# No "from __future__ import annotations": FastAPI must see the real types of the
# methods that @serve.ingress wraps.
import time
import uuid
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.responses import PlainTextResponse
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from agents.engine import ChatRequest
from channels import crews_api, knowledge_api, metrics, rest_api, tools_api, workflow_api
from channels.app_completions import PREFIX as APP_PREFIX
from channels.app_completions import AppCompletions
from channels.errors import install_error_handlers
from channels.openai_api import OpenAIApi, parse_body
from channels.ws_chat import WsChatSession
from cluster.engines.deployments import (
    ChatEngineDeployment,
    EmbeddingDeployment,
    chat_engine_options,
    deployment_name,
)
from cluster.engines.handle_engine import engine_for_model
from cluster.knowledge.knowledge_service import KnowledgeService
from cluster.knowledge.retriever import HandleEmbedder, KnowledgeRetriever, open_index
from cluster.log_config import configure_logging
from cluster.outbound.guard import GuardedFetcher, OutboundPolicy
from cluster.sessions.session_router import SessionRouter
from cluster.settings import ChorusSettings
from cluster.store import SqlConversationStore, SqlKnowledgeStore

log = structlog.get_logger(__name__)

app = FastAPI(
    title="Chorus",
    description="LLMOps server: OpenAI-compatible API, apps, workflows, knowledge, crews.",
    version="0.1.0",
)
install_error_handlers(app)
app.include_router(rest_api.router)
app.include_router(knowledge_api.router)
app.include_router(workflow_api.router)
app.include_router(tools_api.router)
app.include_router(crews_api.router)


@app.middleware("http")
async def _request_context(request: Request, call_next: Any) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, channel="http")
    started = time.perf_counter()
    response: Response = await call_next(request)
    if "x-request-id" not in response.headers:
        response.headers["X-Request-ID"] = request_id
    route = request.scope.get("route")
    metrics.record_request(
        getattr(route, "path", "unmatched"), response.status_code, time.perf_counter() - started
    )
    return response


EMBEDDING_DEPLOYMENT = "EmbeddingDeployment"


async def _knowledge_service(settings: ChorusSettings, app_name: str) -> KnowledgeService:
    from cluster.knowledge.knowledge_worker import NAMESPACE, WORKER_NAME, KnowledgeWorker

    store = SqlKnowledgeStore(settings.resolved_database_url())
    await store.start()
    index = open_index(settings)
    embedder = HandleEmbedder(serve.get_deployment_handle(EMBEDDING_DEPLOYMENT, app_name))
    worker = KnowledgeWorker.options(  # type: ignore[attr-defined]
        name=WORKER_NAME, namespace=NAMESPACE, get_if_exists=True, lifetime="detached"
    ).remote(settings, app_name, EMBEDDING_DEPLOYMENT)
    guard = GuardedFetcher(OutboundPolicy(allow_hosts=settings.outbound_allow_hosts))
    models = {e.name: deployment_name(e.name) for e in settings.engines}
    retriever = KnowledgeRetriever(
        store, index, embedder, engine_for_model(models, app_name), settings.engines[0].name
    )
    return KnowledgeService(store, index, retriever, worker, guard, settings.max_upload_bytes)


async def _tool_service(settings: ChorusSettings) -> Any:
    from cluster.tools.factory import build_tool_service

    service = build_tool_service(settings)
    await service.store.start()  # type: ignore[attr-defined]  # the factory's SQL store
    return service


async def _crew_service(settings: ChorusSettings, tools: Any) -> Any:
    """Crews talk to the models through this gateway's own OpenAI API (CrewAI's native
    OpenAI provider with our base URL), so they use every engine the server has."""
    from cluster.crews.crew_service import CrewService
    from cluster.store import SqlCrewStore

    store = SqlCrewStore(settings.resolved_database_url())
    await store.start()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return CrewService(
        store,
        gateway_url=f"http://{host}:{settings.port}",
        default_model=settings.engines[0].name,
        tools_for=tools.tools_for,
    )


async def _workflow_service(
    settings: ChorusSettings, app_name: str, knowledge: KnowledgeService, tools: Any
) -> Any:
    from cluster.workflows.factory import build_workflow_service

    models = {e.name: deployment_name(e.name) for e in settings.engines}
    service = build_workflow_service(
        settings,
        engine_for_model(models, app_name),
        retriever=knowledge.retriever,
        tools=tools.builtins,
        tools_for=tools.tools_for,
    )
    await service.start()
    return service


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

    async def __init__(
        self,
        engines: dict[str, DeploymentHandle],
        embedders: dict[str, DeploymentHandle],
        settings: ChorusSettings,
    ) -> None:
        configure_logging(settings.log_level, settings.log_json)
        self.settings = settings
        self.openai = OpenAIApi(engines, embedders, settings.max_request_bytes)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database_url = settings.resolved_database_url()
        self.store = SqlConversationStore(database_url)
        await self.store.start()  # migrates to head before any shard connects
        from ray import serve

        app_name = serve.get_replica_context().app_name
        self.knowledge = await _knowledge_service(settings, app_name)
        self.tools = await _tool_service(settings)
        self.workflows = await _workflow_service(settings, app_name, self.knowledge, self.tools)
        self.crews = await _crew_service(settings, self.tools)
        self.sessions = SessionRouter(
            shards=settings.session_shards,
            database_url=database_url,
            models={e.name: deployment_name(e.name) for e in settings.engines},
            app_name=app_name,
            capacity=settings.session_capacity,
            log_level=settings.log_level,
            settings=settings,
        )
        self.apps = AppCompletions(self.store, self.sessions)
        app.state.services = rest_api.Services(
            self.store,
            self.sessions,
            settings,
            knowledge=self.knowledge,
            workflows=self.workflows,
            tools=self.tools,
            crews=self.crews,
        )

    @app.get("/healthz", summary="Liveness and model readiness")
    async def healthz(self) -> Response:
        return await self.openai.health()

    @app.get("/v1/models", summary="List the models served")
    async def models(self) -> dict[str, Any]:
        return await self.openai.models()

    @app.post("/v1/chat/completions", summary="OpenAI chat completions (models or app:<id>)")
    async def chat_completions(self, request: Request) -> Response:
        req: ChatRequest = await parse_body(request, ChatRequest, self.settings.max_request_bytes)
        if req.model.startswith(APP_PREFIX):
            workspace = request.headers.get("x-workspace-id", "local")
            return await self.apps.handle(req, workspace)
        return await self.openai.chat_completions(req)

    @app.websocket("/ws/chat")
    async def ws_chat(self, ws: WebSocket) -> None:
        workspace = ws.headers.get("x-workspace-id") or ws.query_params.get("workspace", "local")
        session = WsChatSession(ws, self.sessions, workspace, self.settings.max_message_chars)
        await session.serve()

    @app.post("/v1/embeddings", summary="OpenAI embeddings")
    async def embeddings(self, request: Request) -> Response:
        return await self.openai.embeddings(request)

    @app.get(
        "/metrics", summary="Prometheus metrics of this node", response_class=PlainTextResponse
    )
    async def prometheus(self) -> Response:
        return PlainTextResponse(await _node_metrics(), media_type="text/plain; version=0.0.4")


def build_app(args: dict[str, Any] | None = None) -> Application:
    """Application builder for ``serve run``/``chorus serve``: args override settings."""
    settings = ChorusSettings(**(args or {}))
    configure_logging(settings.log_level, settings.log_json)
    engines = {
        e.name: ChatEngineDeployment.options(**chat_engine_options(e)).bind(e, settings.log_level)
        for e in settings.engines
    }
    embedders = {
        settings.embedding.name: EmbeddingDeployment.options(
            num_replicas=settings.embedding.num_replicas
        ).bind(settings.embedding, settings.log_level)
    }
    return Gateway.options(
        num_replicas=settings.gateway_replicas,
        max_ongoing_requests=settings.gateway_max_ongoing_requests,
    ).bind(engines, embedders, settings)
