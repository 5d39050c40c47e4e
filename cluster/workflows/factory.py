"""One place that builds the workflow service and its sandbox from the settings (the
gateway and the session shards both run workflows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.sandbox import CodeSandbox, SandboxLimits
from cluster.outbound.guard import GuardedFetcher, OutboundPolicy
from cluster.settings import ChorusSettings
from cluster.workflows.workflow_service import SandboxCodeRunner, WorkflowService


def code_runner(settings: ChorusSettings) -> SandboxCodeRunner:
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


def guard(settings: ChorusSettings) -> GuardedFetcher:
    return GuardedFetcher(OutboundPolicy(allow_hosts=settings.outbound_allow_hosts))


def build_workflow_service(
    settings: ChorusSettings,
    engine_for: Callable[[str], Any],
    retriever: Any = None,
    tools: Any = None,
    tools_for: Any = None,
) -> WorkflowService:
    """The service over a SQL store that is not started yet (``await service.start()``)."""
    from cluster.store import SqlWorkflowStore

    return WorkflowService(
        SqlWorkflowStore(settings.resolved_database_url()),
        engine_for=engine_for,
        default_model=settings.engines[0].name,
        retriever=retriever,
        code=code_runner(settings),
        http=guard(settings),
        tools=tools,
        tools_for=tools_for,
    )
