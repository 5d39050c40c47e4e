"""The one client every engine kind uses: an OpenAI-compatible server over HTTP.

llama.cpp and SGLang replicas point it at the server process they supervise; the
``openai`` kind points it at a remote endpoint. Upstream failures are translated
here, once, into :mod:`agents.errors`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import structlog
from pydantic import JsonValue

from agents import error_codes, tool_calls
from agents.engine import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    ModelCard,
    ToolCallDelta,
    Usage,
)
from agents.errors import (
    ChorusError,
    ContextWindowExceededError,
    InvalidInputError,
    RateLimitedError,
    UpstreamError,
    UpstreamUnavailableError,
)
from agents.errors import TimeoutError as ChorusTimeoutError
from cluster.engines.kinds import engine_kinds
from cluster.settings import EngineSettings

log = structlog.get_logger(__name__)


class OpenAICompatibleEngine:
    """Implements :class:`agents.engine.EngineProtocol` against ``base_url`` (ending in /v1).

    ``ready_check`` is called before every request; a supervised engine passes
    its process's ``check`` so requests to a restarting server fail fast with 503.
    """

    def __init__(
        self,
        settings: EngineSettings,
        base_url: str,
        *,
        api_key: str | None = None,
        ready_check: Callable[[], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(settings.request_timeout_s, connect=10.0),
            transport=transport,
            limits=limits or httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )
        self._ready_check = ready_check or (lambda: None)
        self._upstream_model = settings.model if settings.kind == "openai" else settings.name
        self._kind_fields = engine_kinds().get(settings.kind).request_fields

    def model_card(self) -> ModelCard:
        return ModelCard(
            id=self.settings.name,
            engine=self.settings.kind,
            context_window=self.settings.context_window,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- requests -----------------------------------------------------------------------

    def _emulates_tools(self, request: ChatRequest) -> bool:
        return self.settings.tool_call_mode() == "schema" and tool_calls.uses_tools(request)

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        if self._emulates_tools(request):
            request = tool_calls.emulated(request)
        body = request.model_dump(mode="json", exclude_none=True, by_alias=True)
        body["model"] = self._upstream_model
        body["stream"] = stream
        body.update(self._kind_fields(request))
        if stream:
            body["stream_options"] = {"include_usage": True}
        else:
            body.pop("stream_options", None)
        if body.get("tool_choice") is None:
            body.pop("tool_choice", None)
        return body

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        self._ready_check()
        try:
            resp = await self._client.post(
                self.base_url + "/chat/completions", json=self._body(request, stream=False)
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if resp.status_code >= 400:
            raise self._status_error(resp.status_code, resp.content)
        try:
            completion = ChatCompletion.model_validate_json(resp.content)
        except ValueError as exc:
            raise UpstreamError(f"model '{self.settings.name}' sent an unreadable answer") from exc
        completion.model = self.settings.name
        if self._emulates_tools(request):
            completion = self._as_tool_reply(completion, request)
        return completion

    def _as_tool_reply(self, completion: ChatCompletion, request: ChatRequest) -> ChatCompletion:
        text = completion.choices[0].message.content or ""
        if completion.choices[0].finish_reason == "length":
            cut = tool_calls.cut_answer(text)
            if cut is not None:  # an answer cut off by max_tokens, as without tools
                completion.choices = [
                    Choice(message=AssistantMessage(content=cut), finish_reason="length")
                ]
                return completion
            raise UpstreamError(
                "the model ran out of tokens before finishing its tool call; raise max_tokens",
                details={"reply": text[:500]},
            )
        content, calls = tool_calls.parse_reply(text, request)
        completion.choices = [
            Choice(
                message=AssistantMessage(content=content, tool_calls=calls or None),
                finish_reason="tool_calls" if calls else "stop",
            )
        ]
        return completion

    async def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        """Yields role, deltas, a finish chunk and a usage chunk (see EngineProtocol).

        With emulated tool calls the reply must be parsed whole, so the answer or
        the calls arrive as one delta after the model finishes.
        """
        async for raw in self.chat_stream_raw(request):
            yield ChatCompletionChunk.model_validate(raw)

    async def chat_stream_raw(self, request: ChatRequest) -> AsyncIterator[dict[str, Any]]:
        """:meth:`chat_stream` as plain OpenAI chunk dicts.

        The gateway's pass-through path uses this: a dict crosses Ray and becomes
        JSON again far cheaper than a validated model, once per token.
        """
        if self._emulates_tools(request):
            async for chunk in self._stream_tool_reply(request):
                yield chunk.model_dump(exclude_none=True)
            return
        self._ready_check()
        body = self._body(request, stream=True)
        usage: dict[str, Any] | None = None
        produced = 0
        chunk_id = "chatcmpl-none"
        try:
            async with self._client.stream(
                "POST", self.base_url + "/chat/completions", json=body
            ) as resp:
                if resp.status_code >= 400:
                    raise self._status_error(resp.status_code, await resp.aread())
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    raw = self._parse_chunk(data)
                    upstream_usage = raw.pop("usage", None)
                    if upstream_usage is not None:
                        usage = self._usage(upstream_usage)
                    if not raw.get("choices"):
                        continue
                    raw["model"] = self.settings.name
                    chunk_id = raw.get("id", chunk_id)
                    if (raw["choices"][0].get("delta") or {}).get("content"):
                        produced += 1
                    yield raw
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if usage is None:
            prompt = await self.count_tokens(request.messages)
            usage = Usage(
                prompt_tokens=prompt, completion_tokens=produced, total_tokens=prompt + produced
            ).model_dump()
        yield {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.settings.name,
            "choices": [],
            "usage": usage,
        }

    async def _stream_tool_reply(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        completion = await self.chat(request)
        choice = completion.choices[0]

        def chunk(delta: Delta, finish: FinishReason | None = None) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=completion.id,
                model=completion.model,
                choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            )

        yield chunk(Delta(role="assistant"))
        if choice.message.tool_calls:
            yield chunk(
                Delta(
                    tool_calls=[
                        ToolCallDelta(index=i, id=c.id, type="function", function=c.function)
                        for i, c in enumerate(choice.message.tool_calls)
                    ]
                )
            )
        elif choice.message.content:
            yield chunk(Delta(content=choice.message.content))
        yield chunk(Delta(), choice.finish_reason)
        yield ChatCompletionChunk(id=completion.id, model=completion.model, usage=completion.usage)

    async def count_tokens(self, messages: list[ChatMessage]) -> int:
        """Tokens the engine's chat template makes of ``messages``.

        llama-server renders the template (``POST /apply-template``) and tokenizes the
        prompt as a completion does (``POST /tokenize``, special tokens added and
        parsed): exactly its ``usage.prompt_tokens``, without generating anything.
        Servers without those endpoints are asked for a one-token answer instead.
        """
        self._ready_check()
        payload = {"messages": [m.model_dump(mode="json", exclude_none=True) for m in messages]}
        root = self.base_url.removesuffix("/v1")
        try:
            resp = await self._client.post(root + "/apply-template", json=payload)
            prompt = resp.json().get("prompt") if resp.status_code == 200 else None
            if isinstance(prompt, str):
                body = {"content": prompt, "add_special": True, "parse_special": True}
                resp = await self._client.post(root + "/tokenize", json=body)
                if resp.status_code >= 400:
                    raise self._status_error(resp.status_code, resp.content)
                return len(resp.json()["tokens"])
            probe = ChatRequest(model=self.settings.name, messages=messages, max_tokens=1)
            return (await self.chat(probe)).usage.prompt_tokens
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamError(f"model '{self.settings.name}' sent an unreadable count") from exc

    # -- error translation --------------------------------------------------------------

    def _parse_chunk(self, data: str) -> dict[str, Any]:
        try:
            raw = json.loads(data)
        except json.JSONDecodeError as exc:
            raise UpstreamError(f"model '{self.settings.name}' sent a broken stream") from exc
        if not isinstance(raw, dict):
            raise UpstreamError(f"model '{self.settings.name}' sent a broken stream")
        if "error" in raw:
            raise self._status_error(500, data.encode())
        return raw

    def _usage(self, usage: JsonValue) -> dict[str, Any]:
        try:
            return Usage.model_validate(usage).model_dump()
        except ValueError as exc:
            raise UpstreamError(f"model '{self.settings.name}' sent unreadable usage") from exc

    def _transport_error(self, exc: httpx.HTTPError) -> ChorusError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return ChorusTimeoutError(
                f"model '{self.settings.name}' did not answer within "
                f"{self.settings.request_timeout_s:.0f}s"
            )
        log.warning("engine_unreachable", model=self.settings.name, error=repr(exc))
        return UpstreamUnavailableError(
            f"model '{self.settings.name}' is unreachable; retry shortly",
            retry_after=5.0,
            details={"model": self.settings.name},
        )

    def _status_error(self, status: int, content: bytes) -> ChorusError:
        try:
            err = json.loads(content).get("error") or {}
            if not isinstance(err, dict):
                err = {"message": str(err)}
        except (ValueError, AttributeError):
            err = {}
        message = str(err.get("message") or content[:300].decode("utf-8", "replace"))
        code = str(err.get("code") or "")
        details = err.get("details") if isinstance(err.get("details"), dict) else None
        if err.get("type") == "exceed_context_size_error":
            return _over_window(err, message)
        if code == error_codes.CONTEXT_LENGTH_EXCEEDED or "context length" in message.lower():
            return ContextWindowExceededError(message, param="messages", details=details)
        if status == 400 and "JSON schema" in message:  # llama-server's grammar converter
            return InvalidInputError(
                f"the JSON schema of response_format (or of a tool's parameters) is not "
                f"supported by model '{self.settings.name}': {message}",
                param="response_format",
            )
        if status in (400, 422):
            return InvalidInputError(message, param=err.get("param"), details=details)
        if status == 429:
            return RateLimitedError(f"model '{self.settings.name}' is rate limited: {message}")
        if status in (502, 503, 504):
            return UpstreamUnavailableError(
                f"model '{self.settings.name}' is unavailable: {message}", retry_after=5.0
            )
        log.warning("engine_error", model=self.settings.name, status=status, message=message)
        return UpstreamError(f"model '{self.settings.name}' failed ({status}): {message}")


def _over_window(err: dict[str, Any], message: str) -> ContextWindowExceededError:
    """llama-server's ``exceed_context_size_error`` (``n_prompt_tokens``, ``n_ctx``: the
    slot's window), said as how far over the window the prompt is."""
    try:
        prompt, window = int(err["n_prompt_tokens"]), int(err["n_ctx"])
    except (KeyError, TypeError, ValueError):
        return ContextWindowExceededError(message, param="messages")
    over = prompt - window + 1
    return ContextWindowExceededError(
        f"The prompt is {prompt} tokens, {over} over the context window of {window} tokens "
        f"(at least one token must remain for the answer). Shorten the messages by {over} "
        f"tokens or more.",
        param="messages",
        details={"prompt_tokens": prompt, "context_window": window, "excess_tokens": over},
    )
