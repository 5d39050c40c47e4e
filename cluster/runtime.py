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

from collections.abc import Callable
from dataclasses import dataclass

from agents.accounts.service import AccountService
from agents.apps.skills import AppTools
from agents.conversation.store import ConversationStoreProtocol
from agents.crews.records import CREW, CrewRecord, CrewRunRecord
from agents.crews.service import CrewRunnerProtocol, CrewService
from agents.engine import EngineProtocol
from agents.knowledge.embed_batcher import EmbedderProtocol
from agents.knowledge.index import KnowledgeIndexProtocol
from agents.knowledge.retriever import KnowledgeRetriever
from agents.knowledge.service import IngestionQueueProtocol, KnowledgeService
from agents.knowledge.store import KnowledgeStoreProtocol
from agents.repository import RunRepositoryProtocol
from agents.sandbox import CodeSandbox, SandboxLimits
from agents.sandbox.code_runner import SandboxCodeRunner
from agents.tools.builtin import builtin_tools
from agents.tools.registry import ToolRegistry, load_plugins
from agents.tools.secret_box import SecretBox
from agents.tools.service import ToolService
from agents.tools.store import ToolProviderStoreProtocol
from agents.workflows.context import ServiceMissingError
from agents.workflows.service import WorkflowService
from agents.workflows.store import WorkflowStoreProtocol
from cluster.accounts import account_service
from cluster.crews.offline import keep_crewai_offline
from cluster.engines.direct import DirectClients
from cluster.engines.handle_engine import HandleEmbedder, HandleEngines
from cluster.engines.kinds import local_token_counters
from cluster.knowledge.indexes import open_index
from cluster.outbound.guard import GuardedFetcher, OutboundPolicy
from cluster.settings import ChorusSettings
from cluster.store import (
    Database,
    SqlAccountStore,
    SqlConversationStore,
    SqlKnowledgeStore,
    SqlRunRepository,
    SqlToolProviderStore,
    SqlWorkflowStore,
)

EngineFactory = Callable[[str], EngineProtocol]


@dataclass
class Stores:
    """Every durable store of one process, all on its one :class:`Database`."""

    database: Database
    conversations: ConversationStoreProtocol
    knowledge: KnowledgeStoreProtocol
    workflows: WorkflowStoreProtocol
    tool_providers: ToolProviderStoreProtocol
    crews: RunRepositoryProtocol[CrewRecord, CrewRunRecord]


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
    #: The SSRF guard every outbound fetch on a user's behalf goes through.
    guard: GuardedFetcher
    #: Users, workspaces, members, sessions and API keys.
    accounts: AccountService
    #: Clients of the model servers on this node (None: every stream is relayed).
    direct: DirectClients | None = None

    async def start(self) -> None:
        """Connect the stores and migrate the schema: once per process, whoever calls
        first (concurrent callers wait for that call)."""
        await self.stores.database.start()


def build_services(
    settings: ChorusSettings, app_name: str, *, ingestion: IngestionQueueProtocol | None = None
) -> Services:
    """Every service of a Chorus process in the Serve application ``app_name``.

    ``ingestion`` is where the knowledge service queues documents (the gateway passes
    the knowledge worker's queue); a process without one refuses to ingest."""
    keep_crewai_offline()  # before anything can import CrewAI (crews run in this process)
    database = Database(settings.resolved_database_url())
    stores = Stores(
        database=database,
        conversations=SqlConversationStore(database),
        knowledge=SqlKnowledgeStore(database),
        workflows=SqlWorkflowStore(database),
        tool_providers=SqlToolProviderStore(database),
        crews=SqlRunRepository(database, CREW, CrewRecord, CrewRunRecord),
    )
    direct: DirectClients | None = None
    if settings.direct_streams:
        direct = DirectClients({e.name: e for e in settings.engines})
    engines = HandleEngines(
        [e.name for e in settings.engines],
        app_name,
        local_token_counters(settings.engines),
        direct,
    )
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
        ingestion or NoIngestion(),
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
    accounts = account_service(settings, SqlAccountStore(database))
    crews = CrewService(
        stores.crews,
        runner=lazy_runner(gateway_url(settings)),
        default_model=default_model,
        tools_for=tools.tools_for,
        credential=accounts.internal_credential,
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
        guard=guard,
        accounts=accounts,
        direct=direct,
    )


def lazy_runner(
    gateway_url: str, *, api_key: str = "chorus", timeout_s: float = 600.0
) -> Callable[[], CrewRunnerProtocol]:
    """A factory of the CrewRunner for ``gateway_url`` (the gateway's root URL or its
    ``/v1``), called on the first crew run: importing CrewAI takes seconds and memory,
    so a process that never runs a crew (most session shards) never pays for it."""

    def make() -> CrewRunnerProtocol:
        keep_crewai_offline()
        from cluster.crews.crew_runner import CrewRunner

        return CrewRunner(gateway_url, api_key=api_key, timeout_s=timeout_s)

    return make


class NoIngestion:
    """The ingestion queue of a process that does not ingest (shards, workers, jobs)."""

    def _refuse(self) -> None:
        raise ServiceMissingError("this process does not ingest documents")

    def ingest_upload(self, workspace_id: str, kb_id: str, doc_id: str, data: bytes) -> None:
        self._refuse()

    def ingest_url(self, workspace_id: str, kb_id: str, doc_id: str) -> None:
        self._refuse()

    def crawl(self, workspace_id: str, kb_id: str, url: str, depth: int, max_pages: int) -> None:
        self._refuse()

    def reindex(self, workspace_id: str, kb_id: str, doc_id: str) -> None:
        self._refuse()

    def forget(self, doc_id: str) -> None:
        self._refuse()


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
