"""Where a workspace's tool providers live: the protocol, and an in-memory store for tests.

The secret of a provider is handed to the store already encrypted and kept beside the
record, never in it (the record only says ``has_secret``); :meth:`get_secret` and
:meth:`list_secrets` give it back, still encrypted.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents import error_codes
from agents.repository import InMemoryRepository, RecordKind
from agents.tools.records import ToolProviderRecord

TOOL_PROVIDER = RecordKind("tool provider", error_codes.TOOL_PROVIDER_NOT_FOUND, "provider_id")


@runtime_checkable
class ToolProviderStoreProtocol(Protocol):
    async def create_provider(
        self, record: ToolProviderRecord, secret_encrypted: str | None = None
    ) -> ToolProviderRecord:
        """Store ``record`` with its already encrypted secret; returns the stored record
        (``has_secret`` set). Refuses an id that exists (InvalidInputError)."""
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


class InMemoryToolProviderStore(InMemoryRepository[ToolProviderRecord]):
    def __init__(self) -> None:
        super().__init__(TOOL_PROVIDER)
        #: Provider id → its encrypted secret.
        self.secrets: dict[str, str | None] = {}

    async def create_provider(
        self, record: ToolProviderRecord, secret_encrypted: str | None = None
    ) -> ToolProviderRecord:
        record = record.model_copy(update={"has_secret": secret_encrypted is not None})
        await self.create_record(record)
        self.secrets[record.id] = secret_encrypted
        return record

    get_provider = InMemoryRepository.get_record
    list_providers = InMemoryRepository.list_records

    async def delete_provider(self, workspace_id: str, provider_id: str) -> None:
        await self.delete_record(workspace_id, provider_id)
        del self.secrets[provider_id]

    async def get_secret(self, workspace_id: str, provider_id: str) -> str | None:
        self._owned(workspace_id, provider_id)
        return self.secrets[provider_id]

    async def list_secrets(self, workspace_id: str) -> dict[str, str | None]:
        return {r.id: self.secrets[r.id] for r in await self.list_records(workspace_id)}
