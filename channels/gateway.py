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
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from channels import metrics
from channels.errors import install_error_handlers
from channels.openai_api import OpenAIApi
from cluster.engines.deployments import (
    ChatEngineDeployment,
    EmbeddingDeployment,
    chat_engine_options,
)
from cluster.log_config import configure_logging
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)

app = FastAPI(
    title="Chorus",
    description="LLMOps server: OpenAI-compatible API, apps, workflows, knowledge, crews.",
    version="0.1.0",
)
install_error_handlers(app)


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

    def __init__(
        self,
        engines: dict[str, DeploymentHandle],
        embedders: dict[str, DeploymentHandle],
        settings: ChorusSettings,
    ) -> None:
        configure_logging(settings.log_level, settings.log_json)
        self.settings = settings
        self.openai = OpenAIApi(engines, embedders, settings.max_request_bytes)

    @app.get("/healthz", summary="Liveness and model readiness")
    async def healthz(self) -> Response:
        return await self.openai.health()

    @app.get("/v1/models", summary="List the models served")
    async def models(self) -> dict[str, Any]:
        return await self.openai.models()

    @app.post("/v1/chat/completions", summary="OpenAI chat completions")
    async def chat_completions(self, request: Request) -> Response:
        return await self.openai.chat_completions(request)

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
