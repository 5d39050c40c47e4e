"""Builds the tool service (built-ins + each workspace's imported tools) from settings;
the gateway and the session shards each hold one."""

from __future__ import annotations

from agents.tools.builtin import builtin_tools
from agents.tools.registry import ToolRegistry
from agents.tools.secret_box import SecretBox
from cluster.settings import ChorusSettings
from cluster.store import SqlToolProviderStore
from cluster.tools.tool_service import ToolService
from cluster.workflows.factory import code_runner, guard


def build_tool_service(settings: ChorusSettings) -> ToolService:
    """The service over a SQL store that is not started yet (``await service.store.start()``).
    Every node must see the same ``<data_dir>/secret.key`` to read stored credentials."""
    http = guard(settings)
    builtins = ToolRegistry(builtin_tools(http=http, code=code_runner(settings))).freeze()
    store = SqlToolProviderStore(settings.resolved_database_url())
    return ToolService(builtins, store, SecretBox.for_data_dir(settings.data_dir), http)
