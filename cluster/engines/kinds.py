"""Engine kinds: what each ``EngineSettings.kind`` needs, launches and reserves.

One registry, filled once by :func:`engine_kinds` (the built-ins below, then the
``chorus.engine_kinds`` entry points, each an :class:`EngineKind`), read-only after.
Settings validation, the launch command, the engine replica and its Ray options all
read a kind from here instead of branching on its name.

A kind either launches a model server process that the replica supervises and talks
to over the OpenAI protocol (``command``: llama.cpp, SGLang), or builds its engine in
the replica (``build``: a remote endpoint, the scripted benchmark engine).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from agents.registry import Registry

if TYPE_CHECKING:
    from agents.engine import ChatRequest, EngineProtocol
    from agents.tokens import LocalTokenCounter
    from cluster.settings import EngineSettings

ENTRY_POINT_GROUP = "chorus.engine_kinds"
#: SGLang pins openai==2.8.0; it gets its own virtualenv on the GPU workers.
SGLANG_RUNTIME_ENV: dict[str, Any] = {"pip": ["sglang[all]>=0.5"]}


@dataclass(frozen=True)
class EngineKind:
    """One engine kind. Exactly one of ``command`` and ``build`` is set."""

    name: str
    #: EngineSettings fields this kind cannot do without (checked when settings load).
    requires: tuple[str, ...] = ()
    #: How tool calls are made when the settings do not say.
    tool_calls: Literal["schema", "native"] = "schema"
    #: ``(settings, port) -> argv`` of the OpenAI-compatible server the replica supervises.
    command: Callable[[EngineSettings, int], list[str]] | None = None
    #: ``settings -> engine`` for a kind without a server process of its own.
    build: Callable[[EngineSettings], EngineProtocol] | None = None
    #: Ray actor options of the replica beyond the settings' own (e.g. ``num_cpus: 0``).
    actor_options: Callable[[EngineSettings], dict[str, Any]] = field(default=lambda _settings: {})
    #: Autoscale on ongoing requests when the settings name no autoscaling.
    autoscale_by_default: bool = False
    #: ``settings -> counter`` that counts prompt tokens where the engine is called,
    #: without a round trip to it (``None``: ask the engine).
    token_counter: Callable[[EngineSettings], LocalTokenCounter | None] = field(
        default=lambda _settings: None
    )
    #: ``request -> fields`` the kind's server takes beyond OpenAI's, added to each body.
    request_fields: Callable[[ChatRequest], dict[str, Any]] = field(default=lambda _request: {})

    def check(self, settings: EngineSettings) -> None:
        """ValueError naming the first required field the settings leave empty."""
        for name in self.requires:
            if not getattr(settings, name):
                raise ValueError(f"engine '{settings.name}': kind '{self.name}' needs {name}")

    def launch_command(self, settings: EngineSettings, port: int) -> list[str]:
        if self.command is None:
            raise ValueError(f"engine kind {self.name!r} has no local server process")
        return self.command(settings, port) + list(settings.extra_args)


# -- the built-in kinds ------------------------------------------------------------------


def _llamacpp_command(settings: EngineSettings, port: int) -> list[str]:
    from cluster.engines.llama_server import llama_server_command

    return llama_server_command(settings, port)


def _llamacpp_fields(request: ChatRequest) -> dict[str, Any]:
    """Greedy requests skip llama-server's prompt cache: a prompt found whole in a slot's
    cache is resumed at its last token, whose logits then differ by rounding from a full
    evaluation, and SmolLM2 graded the same passage 9, then 0 (the rerank test)."""
    return {"cache_prompt": False} if request.temperature == 0 else {}


def _llamacpp_tokens(settings: EngineSettings) -> LocalTokenCounter | None:
    from cluster.engines.llama_tokens import llamacpp_token_counter

    return llamacpp_token_counter(settings)


def _sglang_command(settings: EngineSettings, port: int) -> list[str]:
    return [
        sys.executable, "-m", "sglang.launch_server",
        "--model-path", settings.model,
        "--served-model-name", settings.name,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--tp-size", str(settings.tensor_parallel_size),
        "--context-length", str(settings.context_window),
    ]  # fmt: skip


def _sglang_actor_options(settings: EngineSettings) -> dict[str, Any]:
    runtime_env = settings.runtime_env if settings.runtime_env is not None else SGLANG_RUNTIME_ENV
    return {"num_gpus": settings.tensor_parallel_size, "runtime_env": runtime_env}


def _no_cpus(_settings: EngineSettings) -> dict[str, Any]:
    """Work that must not hold Ray CPUs: llama-server's threads are its own; the scripted
    engine does no model work."""
    return {"num_cpus": 0}


def _openai_engine(settings: EngineSettings) -> EngineProtocol:
    from cluster.engines.openai_engine import OpenAICompatibleEngine

    assert settings.base_url is not None  # required by the kind
    return OpenAICompatibleEngine(settings, settings.base_url, api_key=settings.api_key)


def _scripted_engine(settings: EngineSettings) -> EngineProtocol:
    from cluster.engines.scripted import scripted_engine

    return scripted_engine(settings)


def _scripted_server_command(settings: EngineSettings, port: int) -> list[str]:
    return [
        sys.executable, "-m", "cluster.engines.scripted_server",
        "--port", str(port),
        "--settings", settings.model_dump_json(),
    ]  # fmt: skip


def _estimated_tokens(_settings: EngineSettings) -> LocalTokenCounter:
    from agents.tokens import EstimatedTokenCounter

    return EstimatedTokenCounter()


def _scripted_tokens(_settings: EngineSettings) -> LocalTokenCounter:
    from agents.scripted_engine import ScriptedTokenCounter

    return ScriptedTokenCounter()


BUILT_IN = (
    EngineKind(
        "llamacpp",
        command=_llamacpp_command,
        actor_options=_no_cpus,
        token_counter=_llamacpp_tokens,
        request_fields=_llamacpp_fields,
    ),
    EngineKind(
        "sglang",
        requires=("model",),
        command=_sglang_command,
        actor_options=_sglang_actor_options,
        autoscale_by_default=True,
    ),
    EngineKind(
        "openai",
        requires=("base_url",),
        tool_calls="native",
        build=_openai_engine,
        token_counter=_estimated_tokens,
    ),
    EngineKind(
        "scripted", build=_scripted_engine, actor_options=_no_cpus, token_counter=_scripted_tokens
    ),
    # The scripted engine as a supervised server process (benchmarks of the direct path);
    # its engine takes tools natively, as the in-process kind does.
    EngineKind(
        "scripted_server",
        tool_calls="native",
        command=_scripted_server_command,
        actor_options=_no_cpus,
        token_counter=_scripted_tokens,
    ),
)


def _adapt(plugin: object) -> list[tuple[str, EngineKind]]:
    if not isinstance(plugin, EngineKind):
        raise TypeError(f"a {ENTRY_POINT_GROUP} entry point must be an EngineKind, not {plugin!r}")
    return [(plugin.name, plugin)]


@cache
def engine_kinds() -> Registry[str, EngineKind]:
    """The engine kinds: the built-ins, then third parties' (read-only)."""
    registry: Registry[str, EngineKind] = Registry("engine kind", ENTRY_POINT_GROUP)
    for kind in BUILT_IN:
        registry.register(kind.name, kind)
    registry.load_entry_points(_adapt)
    return registry.freeze()


def local_token_counters(engines: list[EngineSettings]) -> dict[str, LocalTokenCounter]:
    """``model -> counter`` for the engines whose kind counts tokens locally."""
    counters: dict[str, LocalTokenCounter] = {}
    for settings in engines:
        counter = engine_kinds().get(settings.kind).token_counter(settings)
        if counter is not None:
            counters[settings.name] = counter
    return counters
