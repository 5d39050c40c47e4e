"""The composition root: settings in, typed services out.

:func:`build_services` is the one place that constructs services. The gateway, the
session shards, the knowledge worker and every job call it with the settings and the
Serve application's name, then ``await services.start()`` before the first use
(it connects the stores and migrates the schema, once per process). Constructing is
cheap and connects nothing: a process uses what it needs of the result.

Plugin registries (engine kinds, knowledge indexes, node types, tools, channels) are
filled here or by the ``default_*`` function of their module, once, at start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.apps.skills import AppTools
from agents.crews.service import CrewService
from agents.engine import EngineProtocol
from agents.knowledge.embed_batcher import EmbedderProtocol
from agents.knowledge.index import KnowledgeIndexProtocol
from agents.knowledge.retriever import KnowledgeRetriever
from agents.knowledge.service import KnowledgeService
from agents.tools.builtin import builtin_tools
from agents.tools.registry import ToolRegistry, load_plugins
from agents.tools.secret_box import SecretBox
from agents.tools.service import ToolService
from agents.workflows.sandbox import CodeSandbox, SandboxLimits
from agents.workflows.service import SandboxCodeRunner, WorkflowService
from cluster.crews.crew_store import SqlCrewStore
from cluster.crews.offline import keep_crewai_offline, lazy_runner
from cluster.engines.handle_engine import HandleEmbedder, HandleEngines
from cluster.knowledge.indexes import open_index
from cluster.knowledge.knowledge_worker import WorkerQueue
from cluster.outbound.guard import GuardedFetcher, OutboundPolicy
from cluster.sessions.session_router import SessionRouter
from cluster.settings import ChorusSettings
from cluster.store import SqlConversationStore, SqlKnowledgeStore, SqlWorkflowStore
from cluster.tools.tool_store import SqlToolProviderStore

EngineFactory = Callable[[str], EngineProtocol]


@dataclass
class Stores:
    """Every durable store of one process, over the settings' database (each is its
    feature's store protocol, and ``start()`` connects it)."""

    conversations: SqlConversationStore
    knowledge: SqlKnowledgeStore
    workflows: SqlWorkflowStore
    tool_providers: SqlToolProviderStore
    crews: SqlCrewStore


@dataclass
class Services:
    """What a Chorus process needs, built from the settings by :func:`build_services`."""

    settings: ChorusSettings
    stores: Stores
    #: ``model id -> engine`` over the Serve application's engine deployments.
    engines: EngineFactory
    embedder: EmbedderProtocol
    index: KnowledgeIndexProtocol
    retriever: KnowledgeRetriever
    knowledge: KnowledgeService
    tools: ToolService
    workflows: WorkflowService
    crews: CrewService
    #: The skills (tools, workflows, crews) of an app's planner.
    app_tools: AppTools
    #: Conversations, owned by the session shards (used by the gateway).
    sessions: SessionRouter
    #: The SSRF guard every outbound fetch on a user's behalf goes through.
    guard: GuardedFetcher
    _started: asyncio.Future[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Connect the stores and migrate the schema; once per process (concurrent
        callers share the first call)."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await self._started

    async def _start(self) -> None:
        # One migration at a time; the stores share the schema (the lock is the database's).
        await self.stores.conversations.start()
        await self.stores.knowledge.start()
        await self.stores.workflows.start()
        await self.stores.tool_providers.start()
        await self.stores.crews.start()


def build_services(settings: ChorusSettings, app_name: str) -> Services:
    """Every service of a Chorus process in the Serve application ``app_name``."""
    keep_crewai_offline()  # before anything can import CrewAI (crews run in this process)
    database_url = settings.resolved_database_url()
    stores = Stores(
        conversations=SqlConversationStore(database_url),
        knowledge=SqlKnowledgeStore(database_url),
        workflows=SqlWorkflowStore(database_url),
        tool_providers=SqlToolProviderStore(database_url),
        crews=SqlCrewStore(database_url),
    )
    engines = HandleEngines([e.name for e in settings.engines], app_name)
    default_model = settings.engines[0].name
    guard = outbound_guard(settings)
    code = code_runner(settings)
    builtins = ToolRegistry(builtin_tools(http=guard, code=code))
    load_plugins(builtins, http=guard, code=code)
    builtins.freeze()
    embedder = HandleEmbedder(app_name)
    index = open_index(settings)
    retriever = KnowledgeRetriever(stores.knowledge, index, embedder, engines, default_model)
    knowledge = KnowledgeService(
        stores.knowledge,
        index,
        retriever,
        WorkerQueue(settings, app_name),
        guard,
        settings.max_upload_bytes,
    )
    tools = ToolService(
        builtins, stores.tool_providers, SecretBox.for_data_dir(settings.data_dir), guard
    )
    workflows = WorkflowService(
        stores.workflows,
        engine_for=engines,
        default_model=default_model,
        retriever=retriever,
        code=code,
        http=guard,
        tools=builtins,
        tools_for=tools.tools_for,
    )
    crews = CrewService(
        stores.crews,
        runner=lazy_runner(gateway_url(settings)),
        default_model=default_model,
        tools_for=tools.tools_for,
    )
    return Services(
        settings=settings,
        stores=stores,
        engines=engines,
        embedder=embedder,
        index=index,
        retriever=retriever,
        knowledge=knowledge,
        tools=tools,
        workflows=workflows,
        crews=crews,
        app_tools=AppTools(
            builtins, tools=tools, workflows=workflows, crews=crews, retriever=retriever
        ),
        sessions=SessionRouter(settings, app_name),
        guard=guard,
    )


def gateway_url(settings: ChorusSettings) -> str:
    """Where this server's own HTTP API is reached from inside the cluster (crews talk
    to the models through its OpenAI API)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def outbound_guard(settings: ChorusSettings, max_bytes: int | None = None) -> GuardedFetcher:
    """The SSRF guard with the settings' allowlist (and a response size limit)."""
    policy = OutboundPolicy(allow_hosts=settings.outbound_allow_hosts)
    if max_bytes is not None:
        policy.max_bytes = max_bytes
    return GuardedFetcher(policy)


def code_runner(settings: ChorusSettings) -> SandboxCodeRunner:
    """The code sandbox with the settings' limits (code nodes and the run_code tool)."""
    sandbox = CodeSandbox(
        scratch_root=settings.data_dir / "sandbox",
        allow_unisolated=settings.code_sandbox_unisolated,
        python_packages=tuple(settings.code_python_packages),
    )
    limits = SandboxLimits(
        cpu_seconds=settings.code_cpu_seconds,
        memory_mb=settings.code_memory_mb,
        wall_seconds=settings.code_wall_seconds,
    )
    return SandboxCodeRunner(sandbox, limits)
