"""The HTTP surfaces of the gateway: one registry of routers, and the FastAPI app built
from it once.

Built-in routers (apps and conversations, knowledge, workflows, tools, crews) come
first, then what third parties publish under the ``chorus.channels`` entry points
(each an ``APIRouter``, or a ``(name, APIRouter)`` pair); the registry is read-only
after. The gateway's own routes (the OpenAI API, the websocket, health, metrics) are
methods of :class:`channels.gateway.Gateway`, which Serve binds to this app.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from functools import cache

import structlog
from fastapi import APIRouter, FastAPI, Request, Response

from agents.registry import Registry
from channels import crews_api, knowledge_api, metrics, rest_api, tools_api, workflow_api
from channels.errors import install_error_handlers

ENTRY_POINT_GROUP = "chorus.channels"
BUILT_IN: tuple[tuple[str, APIRouter], ...] = (
    ("apps", rest_api.router),
    ("knowledge", knowledge_api.router),
    ("workflows", workflow_api.router),
    ("tools", tools_api.router),
    ("crews", crews_api.router),
)


def _adapt(plugin: object) -> list[tuple[str, APIRouter]]:
    if isinstance(plugin, APIRouter):
        return [(plugin.prefix or repr(plugin), plugin)]
    if isinstance(plugin, tuple) and len(plugin) == 2 and isinstance(plugin[1], APIRouter):
        return [(str(plugin[0]), plugin[1])]
    raise TypeError(f"a {ENTRY_POINT_GROUP} entry point must be an APIRouter or (name, router)")


@cache
def default_routers() -> Registry[str, APIRouter]:
    """The routers the gateway serves: the built-ins, then third parties' (read-only)."""
    registry: Registry[str, APIRouter] = Registry("channel", ENTRY_POINT_GROUP)
    for name, router in BUILT_IN:
        registry.register(name, router)
    registry.load_entry_points(_adapt)
    return registry.freeze()


def build_http_app() -> FastAPI:
    """The gateway's FastAPI app: error handlers, request context, every router."""
    app = FastAPI(
        title="Chorus",
        description="LLMOps server: OpenAI-compatible API, apps, workflows, knowledge, crews.",
        version="0.1.0",
    )
    install_error_handlers(app)
    for router in default_routers().items():
        app.include_router(router[1])
    app.middleware("http")(_request_context)
    return app


async def _request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Bind the request id for the logs, echo it, and record the route's metrics."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, channel="http")
    started = time.perf_counter()
    response = await call_next(request)
    if "x-request-id" not in response.headers:
        response.headers["X-Request-ID"] = request_id
    route = request.scope.get("route")
    metrics.record_request(
        getattr(route, "path", "unmatched"), response.status_code, time.perf_counter() - started
    )
    return response
