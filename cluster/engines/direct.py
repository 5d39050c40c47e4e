"""Direct streams (the byte relay): tokens go from the model server to their reader
without crossing the engine replica.

An engine replica that supervises a model server process (llama-server, SGLang) stays
its supervisor and admission point, but need not carry every token: a caller on the
same node asks it for a *route* (:meth:`ChatEngineDeployment.chat_stream_routed`).
The replica admits the request (429 past ``max_queued_requests``, 503 while the server
restarts), answers with the server's address, and keeps the request counted (its
``in_flight``, Serve's ongoing requests and autoscaling) until the caller closes that
stream; the caller streams the completion from the server over loopback HTTP with
the same client code the replica would use. A caller on another node, or an engine
without a server process, gets the chunks relayed in batches as before.

One Ray item per request instead of one per batch of tokens: for a 96-token answer
at ~100 tok/s that is one item instead of ~50 on this hop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from agents.engine import ChatCompletionChunk

if TYPE_CHECKING:
    from cluster.engines.openai_engine import OpenAICompatibleEngine
    from cluster.settings import EngineSettings


@dataclass(frozen=True)
class DirectRoute:
    """Stream this request from ``base_url`` (an OpenAI ``/v1`` root on ``node_id``)."""

    base_url: str
    node_id: str


def current_node_id() -> str:
    """The Ray node this process runs on ('' outside Ray: never matches a replica's)."""
    import ray

    if not ray.is_initialized():
        return ""
    return str(ray.get_runtime_context().get_node_id())


def is_token(chunk: ChatCompletionChunk) -> bool:
    """A chunk that only adds text (it may wait in a batch)."""
    return (
        len(chunk.choices) == 1
        and chunk.choices[0].finish_reason is None
        and bool(chunk.choices[0].delta.content)
        and not chunk.choices[0].delta.tool_calls
    )


def is_raw_token(chunk: dict[str, Any]) -> bool:
    """:func:`is_token` for an OpenAI chunk dict."""
    choices = chunk.get("choices") or []
    if len(choices) != 1 or choices[0].get("finish_reason") is not None:
        return False
    delta = choices[0].get("delta") or {}
    return bool(delta.get("content")) and not delta.get("tool_calls")


class DirectClients:
    """This process's clients of the model servers on its node, one per server.

    Built from the engines' settings, so a request is shaped exactly as the replica
    would shape it (kind fields, emulated tool calls, error translation). Connections
    are not kept alive: llama-server drops idle kept-alive connections without a word,
    and a loopback connect costs ~0.1 ms."""

    def __init__(self, engines: Mapping[str, EngineSettings]) -> None:
        self._settings = dict(engines)
        self._clients: dict[tuple[str, str], OpenAICompatibleEngine] = {}
        self._node_id: str | None = None

    def serves(self, model: str) -> bool:
        """Whether ``model``'s replicas may hand out routes (its kind runs a server)."""
        from cluster.engines.kinds import engine_kinds

        settings = self._settings.get(model)
        return settings is not None and engine_kinds().get(settings.kind).command is not None

    @property
    def node_id(self) -> str:
        if self._node_id is None:
            self._node_id = current_node_id()
        return self._node_id

    def client(self, model: str, route: DirectRoute) -> OpenAICompatibleEngine:
        from cluster.engines.openai_engine import OpenAICompatibleEngine

        key = (model, route.base_url)
        client = self._clients.get(key)
        if client is None:
            client = OpenAICompatibleEngine(
                self._settings[model],
                route.base_url,
                limits=httpx.Limits(max_connections=1024, max_keepalive_connections=0),
            )
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
