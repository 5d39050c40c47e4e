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
from dataclasses import dataclass
from functools import cache
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.requests import HTTPConnection

from agents.registry import Registry
from channels import (
    accounts_api,
    crews_api,
    knowledge_api,
    metrics,
    rest_api,
    tools_api,
    webapp_api,
    workflow_api,
)
from channels.auth import OPERATOR, PUBLIC, Policy, requires
from channels.errors import install_error_handlers

ENTRY_POINT_GROUP = "chorus.channels"
BUILT_IN: tuple[tuple[str, APIRouter], ...] = (
    ("accounts", accounts_api.router),
    ("apps", rest_api.router),
    ("knowledge", knowledge_api.router),
    ("workflows", workflow_api.router),
    ("tools", tools_api.router),
    ("crews", crews_api.router),
    ("end_users", webapp_api.router),
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
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.include_router(_docs_router())
    for router in default_routers().items():
        app.include_router(router[1])
    app.middleware("http")(_request_context)
    return app


def docs_policy(conn: HTTPConnection) -> Policy:
    """/docs and /openapi.json: public unless the settings say otherwise (operators)."""
    return PUBLIC if conn.app.state.services.settings.docs_public else OPERATOR


@dataclass(frozen=True)
class RouteEntry:
    """One route of the app and the policy it declares (None: it declares none)."""

    method: str
    path: str
    policy: str | None


def route_table(app: FastAPI) -> list[RouteEntry]:
    """Every HTTP route and websocket of ``app`` with its declared policy: the
    authorization matrix test walks this, and fails on a route without a policy."""
    entries = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        path = str(getattr(context, "path", None) or getattr(route, "path", ""))
        methods = getattr(context, "methods", None) or getattr(route, "methods", None) or {"WS"}
        policy = _policy_name(dependant)
        for method in sorted(methods):
            if method != "HEAD":
                entries.append(RouteEntry(method, path, policy))
    return sorted(entries, key=lambda e: (e.path, e.method))


def _policy_name(dependant: Any) -> str | None:
    for sub in dependant.dependencies:
        policy = getattr(sub.call, "chorus_policy", None)
        if policy is not None:
            return str(getattr(policy, "name", None) or policy.__name__.strip("_"))
        found = _policy_name(sub)
        if found is not None:
            return found
    return None


async def _openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


async def _swagger() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Chorus API")


def _docs_router() -> APIRouter:
    """The API's description and its browser page, under the docs policy (module-level
    endpoints: Serve ships the app to its replica by pickling, and FastAPI must still
    resolve their annotations there)."""
    router = APIRouter(include_in_schema=False)
    docs = [requires(docs_policy)]
    router.add_api_route("/openapi.json", _openapi, methods=["GET"], dependencies=docs)
    router.add_api_route("/docs", _swagger, methods=["GET"], dependencies=docs)
    return router


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
