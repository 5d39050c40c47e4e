"""Custom tools on the server: the service that builds each workspace's tool registry
from its imported OpenAPI providers (stored by ``cluster.store.SqlToolProviderStore``)."""

from cluster.tools.tool_service import ToolService

__all__ = ["ToolService"]
