"""The engine protocol over a Ray Serve deployment handle, for code running on Ray.

Session shards and the gateway call engine deployments through this; a replica's
ChorusError comes back as itself, a dead or unreachable replica as a 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from ray.exceptions import RayError, RayTaskError
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle

from agents.engine import ChatCompletion, ChatCompletionChunk, ChatMessage, ChatRequest, ModelCard
from agents.errors import ChorusError, ModelNotFoundError, UpstreamUnavailableError

T = TypeVar("T")


async def call(awaitable: Awaitable[T]) -> T:
    """Await a Ray call; re-raise a remote ChorusError as itself, Ray failures as 503."""
    try:
        return await awaitable
    except RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, ChorusError):
            raise cause from None
        raise UpstreamUnavailableError(
            "a model replica failed; retry shortly", retry_after=5.0
        ) from exc
    except ChorusError:
        raise
    except (RayError, RayServeException) as exc:
        raise UpstreamUnavailableError(
            "a model replica is unavailable; retry shortly", retry_after=5.0
        ) from exc


class HandleEngine:
    def __init__(self, handle: DeploymentHandle, model: str) -> None:
        self._handle = handle
        self._model = model

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        return await call(self._handle.chat.remote(request))

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        stream = self._handle.options(stream=True).chat_stream.remote(request)
        try:
            while True:
                try:
                    chunk: ChatCompletionChunk = await call(stream.__anext__())
                except StopAsyncIteration:
                    return
                yield chunk
        finally:
            stream.cancel()

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        return await call(self._handle.count_tokens.remote(messages))

    def model_card(self) -> ModelCard:
        return ModelCard(id=self._model)


class MissingEngine:
    """Stands in for a model the server does not serve: every call is a 404."""

    def __init__(self, model: str) -> None:
        self._model = model

    def _error(self) -> ModelNotFoundError:
        return ModelNotFoundError(
            f"The model '{self._model}' does not exist on this server", param="model"
        )

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        raise self._error()

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        raise self._error()
        yield  # pragma: no cover - makes this an async generator

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        raise self._error()

    def model_card(self) -> ModelCard:
        return ModelCard(id=self._model)


def engine_for_model(models: dict[str, str], app_name: str) -> Any:
    """A factory ``model id -> engine`` over the app's engine deployments."""
    from ray import serve

    cache: dict[str, Any] = {}

    def factory(model: str) -> Any:
        if model not in cache:
            deployment = models.get(model)
            cache[model] = (
                MissingEngine(model)
                if deployment is None
                else HandleEngine(serve.get_deployment_handle(deployment, app_name), model)
            )
        return cache[model]

    return factory
