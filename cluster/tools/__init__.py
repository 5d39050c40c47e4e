"""Custom tools on the server: the store of imported OpenAPI providers and the service
that builds each workspace's tool registry from them."""

from cluster.tools.tool_service import ToolService
from cluster.tools.tool_store import SqlToolProviderStore

__all__ = ["SqlToolProviderStore", "ToolService"]
