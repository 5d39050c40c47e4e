"""The OpenAI-compatible API: one handler per endpoint (validate -> convert -> stream or not)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import structlog
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from agents import error_codes
from agents.coalesce import BatchPolicy, coalesce
from agents.engine import ChatCompletion, ChatRequest, ModelCard, Usage
from agents.errors import (
    ChorusError,
    InvalidInputError,
    ModelNotFoundError,
)
from channels import metrics
from channels.errors import validation_error
from cluster.engines.direct import DirectClients, DirectRoute, is_raw_token
from cluster.engines.handle_engine import call
from cluster.limits import Lease

if TYPE_CHECKING:
    from cluster.engines.deployments import ChatEngineDeployment, EmbeddingDeployment
    from cluster.engines.embedder import EmbeddingResult

    #: A chat model's deployment, and an embedding model's.
    ChatHandle = DeploymentHandle[ChatEngineDeployment]
    EmbeddingHandle = DeploymentHandle[EmbeddingDeployment]

log = structlog.get_logger(__name__)
M = TypeVar("M", bound=BaseModel)


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="Embedding model id.", min_length=1)
    input: str | list[str] = Field(description="Text or list of texts to embed.")
    encoding_format: Literal["float", "base64"] = Field(
        default="float", description="float lists, or base64 of little-endian float32."
    )
    dimensions: int | None = Field(default=None, description="Only the model's own size.")
    input_type: Literal["query", "passage"] = Field(
        default="query",
        description="e5 prefix: 'query' for queries and similarity, 'passage' for documents.",
    )


class ModelList(BaseModel):
    """``GET /v1/models``: the models served, in OpenAI's list shape."""

    object: Literal["list"] = Field(default="list", description="Always 'list'.")
    data: list[ModelCard] = Field(description="The chat models, then the embedding models.")


async def parse_body(request: Request, model: type[M], limit: int) -> M:
    raw = await request.body()
    if len(raw) > limit:
        raise InvalidInputError(
            f"request body is {len(raw)} bytes; the limit is {limit}",
            code=error_codes.REQUEST_TOO_LARGE,
        )
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}", param="body") from exc
    if not isinstance(data, dict):
        raise InvalidInputError("request body must be a JSON object", param="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


class OpenAIApi:
    """Routes OpenAI requests to the engine and embedding deployments by model id."""

    def __init__(
        self,
        engines: dict[str, ChatHandle],
        embedders: dict[str, EmbeddingHandle],
        max_request_bytes: int,
        *,
        direct: DirectClients | None = None,
        batches: BatchPolicy = BatchPolicy(),  # noqa: B008 - frozen, shared safely
    ) -> None:
        self.engines = engines
        self.embedders = embedders
        self.max_request_bytes = max_request_bytes
        #: Streams of models served on this node are read from their server itself.
        self.direct = direct
        self.batches = batches
        self._cards: list[ModelCard] | None = None

    def _engine(self, model: str) -> ChatHandle:
        handle = self.engines.get(model)
        if handle is None:
            raise self._unknown(model)
        return handle

    def _unknown(self, model: str) -> ModelNotFoundError:
        return ModelNotFoundError(
            f"The model '{model}' does not exist. GET /v1/models lists the models served here.",
            param="model",
        )

    async def models(self) -> ModelList:
        if self._cards is None:
            handles: list[ChatHandle | EmbeddingHandle] = [
                *self.engines.values(),
                *self.embedders.values(),
            ]
            cards: list[ModelCard] = await asyncio.gather(
                *(call(h.model_card.remote()) for h in handles)
            )
            self._cards = list(cards)
        return ModelList(data=self._cards)

    async def health(self) -> JSONResponse:
        handles: dict[str, ChatHandle | EmbeddingHandle] = {**self.engines, **self.embedders}

        async def ready(handle: ChatHandle | EmbeddingHandle) -> bool:
            try:
                return bool(await asyncio.wait_for(call(handle.ready.remote()), timeout=5))
            except Exception:  # noqa: BLE001 - any failure means not ready
                return False

        states = await asyncio.gather(*(ready(h) for h in handles.values()))
        models = dict(zip(handles, states, strict=True))
        ok = all(states)
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "models": models}, status_code=200 if ok else 503
        )

    async def chat_completions(self, req: ChatRequest, lease: Lease | None = None) -> Response:
        """``lease``: the caller's admission under its limits, released with the tokens
        the engine reports when the completion (or its stream) ends."""
        try:
            return await self._chat_completions(req, lease)
        except BaseException:
            if lease is not None:
                await lease.release(0)
            raise

    async def _chat_completions(self, req: ChatRequest, lease: Lease | None) -> Response:
        handle = self._engine(req.model)
        started = time.perf_counter()
        if not req.stream:
            completion: ChatCompletion = await call(handle.chat.remote(req))
            metrics.record_completion(req.model, completion.usage, time.perf_counter() - started)
            if lease is not None:
                usage = completion.usage
                await lease.release(usage.prompt_tokens + usage.completion_tokens if usage else 0)
            return JSONResponse(completion.model_dump(exclude_none=True))
        routed = self.direct is not None and self.direct.serves(req.model)
        # remote() is typed as either response; options(stream=True) makes it the generator.
        stream: DeploymentResponseGenerator[list[dict[str, Any]] | DirectRoute]
        if routed:
            assert self.direct is not None
            stream = handle.options(stream=True).chat_stream_routed.remote(  # type: ignore[assignment]
                req, self.direct.node_id, True
            )
        else:
            stream = handle.options(stream=True).chat_stream_raw_batches.remote(req)  # type: ignore[assignment]
        try:
            # Refused requests (the replica's, or the model server's) become HTTP errors.
            first = await call(stream.__anext__())
            if isinstance(first, DirectRoute):
                assert self.direct is not None
                client = self.direct.client(req.model, first)
                batches = coalesce(client.chat_stream_raw(req), is_raw_token, self.batches)
                first = await anext(batches)
            else:
                batches = _Relayed(stream)
        except BaseException:
            stream.cancel()
            raise
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return StreamingResponse(
            self._sse(req.model, first, batches, stream, include_usage, started, lease),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _sse(
        self,
        model: str,
        first: list[dict[str, Any]],
        batches: AsyncIterator[list[dict[str, Any]]],
        stream: DeploymentResponseGenerator[list[dict[str, Any]] | DirectRoute],
        include_usage: bool,
        started: float,
        lease: Lease | None = None,
    ) -> AsyncIterator[bytes]:
        """OpenAI server-sent events from the engine's batches of chunk dicts, one write
        per batch; errors end the stream with an ``{"error": ...}`` event, as OpenAI does.
        ``stream`` (the replica's call) is closed at the end, which also ends a direct
        stream's admission."""
        ttft_recorded = False
        relayed_to_its_end = False
        tokens = 0
        try:
            batch = first
            while True:
                frames: list[bytes] = []
                for chunk in batch:
                    usage = chunk.get("usage")
                    if usage is not None:
                        counted = Usage.model_validate(usage)
                        tokens += counted.prompt_tokens + counted.completion_tokens
                        metrics.record_completion(model, counted, time.perf_counter() - started)
                        if not include_usage:
                            continue
                    elif not ttft_recorded and chunk["choices"][0].get("delta", {}).get("content"):
                        metrics.record_ttft(model, time.perf_counter() - started)
                        ttft_recorded = True
                    frames.append(_frame(chunk))
                if frames:
                    yield b"".join(frames)
                try:
                    batch = await anext(batches)
                except StopAsyncIteration:
                    relayed_to_its_end = isinstance(batches, _Relayed)
                    break
            yield b"data: [DONE]\n\n"
        except ChorusError as exc:
            log.warning("stream_failed", model=model, code=exc.code, error=exc.message)
            yield _frame(exc.to_openai())
        finally:
            if not relayed_to_its_end:  # a route's admission ends when its call does
                stream.cancel()
            aclose = getattr(batches, "aclose", None)
            if aclose is not None:
                await aclose()
            if lease is not None:
                await lease.release(tokens)

    async def embeddings(self, request: Request) -> Response:
        req: EmbeddingRequest = await parse_body(request, EmbeddingRequest, self.max_request_bytes)
        handle = self.embedders.get(req.model)
        if handle is None:
            raise self._unknown(req.model)
        texts = [req.input] if isinstance(req.input, str) else req.input
        if not texts or any(not isinstance(t, str) or not t for t in texts):
            raise InvalidInputError("input must be non-empty text", param="input")
        result: EmbeddingResult = await call(handle.embed.remote(texts, req.input_type))
        dim = len(result.vectors[0])
        if req.dimensions is not None and req.dimensions != dim:
            raise InvalidInputError(
                f"model '{req.model}' makes {dim}-dimensional vectors; "
                f"dimensions={req.dimensions} is not supported",
                param="dimensions",
            )
        data = []
        for i, vec in enumerate(result.vectors):
            embedding: list[float] | str = vec
            if req.encoding_format == "base64":
                embedding = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode()
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        return JSONResponse(
            {
                "object": "list",
                "model": req.model,
                "data": data,
                "usage": {"prompt_tokens": result.tokens, "total_tokens": result.tokens},
            }
        )


class _Relayed:
    """The batches the replica relays (after the first)."""

    def __init__(
        self, stream: DeploymentResponseGenerator[list[dict[str, Any]] | DirectRoute]
    ) -> None:
        self._stream = stream

    def __aiter__(self) -> _Relayed:
        return self

    async def __anext__(self) -> list[dict[str, Any]]:
        batch = await call(self._stream.__anext__())
        if isinstance(batch, DirectRoute):
            raise TypeError("a route arrived after the stream had started")
        return batch


def _frame(data: dict[str, JsonValue]) -> bytes:
    return (
        b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
    )
