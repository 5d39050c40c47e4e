"""Where a workspace's tool providers live: the protocol, and an in-memory store for tests.

The secret of a provider is stored encrypted (the caller encrypts it) beside the
record, never in it; only :meth:`get_secret` and :meth:`list_secrets` hand it out.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents.tools.records import ToolProviderRecord


@runtime_checkable
class ToolProviderStoreProtocol(Protocol):
    async def create_provider(
        self, record: ToolProviderRecord, secret_encrypted: str | None = None
    ) -> ToolProviderRecord:
        """Store ``record`` with its already encrypted secret; returns the stored record."""
        ...

    async def get_provider(self, workspace_id: str, provider_id: str) -> ToolProviderRecord:
        """Raises NotFoundError (code tool_provider_not_found), also for another
        workspace's provider."""
        ...

    async def list_providers(self, workspace_id: str) -> list[ToolProviderRecord]:
        """Oldest first."""
        ...

    async def delete_provider(self, workspace_id: str, provider_id: str) -> None: ...

    async def get_secret(self, workspace_id: str, provider_id: str) -> str | None:
        """The provider's secret, encrypted as stored (None when it has none)."""
        ...

    async def list_secrets(self, workspace_id: str) -> dict[str, str | None]:
        """Provider id → its encrypted secret, for every provider of the workspace."""
        ...
