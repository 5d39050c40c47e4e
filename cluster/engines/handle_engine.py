"""The engine and embedder protocols over Ray Serve deployment handles, for code on Ray.

Session shards, the gateway and the knowledge worker call the model deployments
through these; a replica's ChorusError comes back as itself, a dead or unreachable
replica as a 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import TYPE_CHECKING, TypeVar

from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from agents import error_codes
from agents.engine import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    EngineProtocol,
    ModelCard,
)
from agents.errors import ModelNotFoundError, UpstreamError
from agents.knowledge.embed_batcher import InputType
from agents.tokens import LocalTokenCounter
from cluster.actor_calls import settle
from cluster.engines.direct import DirectClients, DirectRoute
from cluster.engines.names import EMBEDDING_DEPLOYMENT, deployment_name

if TYPE_CHECKING:
    from cluster.engines.deployments import ChatEngineDeployment, EmbeddingDeployment

T = TypeVar("T")


async def call(awaitable: Awaitable[T]) -> T:
    """Await a call to a model replica: its ChorusError as itself, its death as a 503."""
    return await settle(awaitable, what="a model replica", code=error_codes.ENGINE_UNAVAILABLE)


class HandleEngine:
    """A model's replicas; prompt tokens are counted here when ``counter`` can (an
    estimating counter learns from the usage the replicas report). With ``direct``,
    streams of a model whose replicas run a server on this node are read from that
    server itself (:mod:`cluster.engines.direct`)."""

    def __init__(
        self,
        handle: DeploymentHandle[ChatEngineDeployment],
        model: str,
        counter: LocalTokenCounter | None = None,
        direct: DirectClients | None = None,
    ) -> None:
        self._handle = handle
        self._model = model
        self._counter = counter
        self._learns = counter is not None and not counter.exact
        self._direct = direct if direct is not None and direct.serves(model) else None

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        completion: ChatCompletion = await call(self._handle.chat.remote(request))
        if self._learns and completion.usage is not None:
            self._observe(request, completion.usage.prompt_tokens)
        return completion

    def _observe(self, request: ChatRequest, reported: int) -> None:
        if self._counter is not None and not request.tools:  # tools add unseen text
            self._counter.observe(request.messages, reported)

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        """The replica's chunks, which cross Ray in batches (the first token alone), or,
        routed, the model server's own stream."""
        # remote() is typed as either response; options(stream=True) makes it the generator.
        stream: DeploymentResponseGenerator[list[ChatCompletionChunk] | DirectRoute]
        if self._direct is None:
            stream = self._handle.options(stream=True).chat_stream_batches.remote(request)  # type: ignore[assignment]
        else:
            stream = self._handle.options(stream=True).chat_stream_routed.remote(  # type: ignore[assignment]
                request, self._direct.node_id
            )
        try:
            while True:
                try:
                    batch = await call(stream.__anext__())
                except StopAsyncIteration:
                    return
                if isinstance(batch, DirectRoute):
                    assert self._direct is not None
                    async for chunk in self._direct.client(self._model, batch).chat_stream(request):
                        yield chunk
                    return
                for chunk in batch:
                    if self._learns and chunk.usage is not None:
                        self._observe(request, chunk.usage.prompt_tokens)
                    yield chunk
        finally:
            stream.cancel()  # also ends a route's admission in the replica

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        if self._counter is not None:
            return self._counter.count(messages)
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


class HandleEmbedder:
    """Embeddings from the application's EmbeddingDeployment (its handle is made on
    first use); its replicas share concurrent batches."""

    def __init__(self, app_name: str, deployment: str = EMBEDDING_DEPLOYMENT) -> None:
        self._app_name = app_name
        self._deployment = deployment
        self._handle: DeploymentHandle[EmbeddingDeployment] | None = None

    async def embed(self, texts: list[str], input_type: InputType) -> list[list[float]]:
        if self._handle is None:
            from ray import serve

            self._handle = serve.get_deployment_handle(self._deployment, self._app_name)
        result = await call(self._handle.embed.remote(texts, input_type))
        if len(result.vectors) != len(texts):
            raise UpstreamError("the embedder returned a different number of vectors")
        return result.vectors  # type: ignore[no-any-return]


class HandleEngines:
    """``model id -> engine`` over the application's engine deployments (one handle per
    model, made on first use); a model the server does not serve is a MissingEngine."""

    def __init__(
        self,
        models: list[str],
        app_name: str,
        counters: Mapping[str, LocalTokenCounter] | None = None,
        direct: DirectClients | None = None,
    ) -> None:
        self._deployments = {model: deployment_name(model) for model in models}
        self._app_name = app_name
        self._counters = dict(counters or {})
        self._direct = direct
        self._engines: dict[str, EngineProtocol] = {}

    def __call__(self, model: str) -> EngineProtocol:
        engine = self._engines.get(model)
        if engine is None:
            from ray import serve

            deployment = self._deployments.get(model)
            engine = (
                MissingEngine(model)
                if deployment is None
                else HandleEngine(
                    serve.get_deployment_handle(deployment, self._app_name),
                    model,
                    self._counters.get(model),
                    self._direct,
                )
            )
            self._engines[model] = engine
        return engine
