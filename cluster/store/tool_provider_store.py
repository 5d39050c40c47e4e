"""The durable store of workspaces' tool providers (imported OpenAPI documents).

Providers are the generic workspace-owned repository
(:mod:`cluster.store.repository`): another workspace's provider is "not found". The
secret is stored encrypted (the caller encrypts it) in the row's ``secret_encrypted``
column, never in the record; :meth:`get_secret` and :meth:`list_secrets` are the only
ways to read it back, still encrypted.
"""

from __future__ import annotations

from sqlalchemy import select

from agents.tools.records import ToolProviderRecord
from agents.tools.store import TOOL_PROVIDER
from cluster.store.repository import SqlRepository
from cluster.store.tables.tools import ToolProviderRow


class SqlToolProviderStore(SqlRepository[ToolProviderRecord, ToolProviderRow]):
    """ToolProviderStoreProtocol on a SQL database; call ``start()`` before use."""

    kind = TOOL_PROVIDER
    rows = ToolProviderRow

    get_provider = SqlRepository.get_record
    list_providers = SqlRepository.list_records
    delete_provider = SqlRepository.delete_record

    def fill_row(self, row: ToolProviderRow, record: ToolProviderRecord) -> None:
        row.name, row.kind = record.name, record.kind
        row.spec = record.model_dump(include={"document", "spec_url", "base_url", "tool_names"})
        row.auth = record.auth.model_dump(mode="json")

    def to_record(self, row: ToolProviderRow) -> ToolProviderRecord:
        spec = row.spec or {}
        return ToolProviderRecord.model_validate(
            self.owned_fields(row)
            | {
                "name": row.name,
                "kind": row.kind,
                "document": spec.get("document") or {},
                "spec_url": spec.get("spec_url"),
                "base_url": spec.get("base_url"),
                "tool_names": spec.get("tool_names") or {},
                "auth": row.auth or {},
                "has_secret": row.secret_encrypted is not None,
            }
        )

    async def create_provider(
        self, record: ToolProviderRecord, secret_encrypted: str | None = None
    ) -> ToolProviderRecord:
        """Store ``record`` with its already encrypted secret; returns the stored record."""
        record = record.model_copy(update={"has_secret": secret_encrypted is not None})
        row = self.new_row(record)
        row.secret_encrypted = secret_encrypted
        return await self.add_row(record, row)

    async def get_secret(self, workspace_id: str, provider_id: str) -> str | None:
        """The provider's secret, encrypted as stored (None when it has none)."""
        async with self._session() as session:
            return (await self.owned_row(session, workspace_id, provider_id)).secret_encrypted

    async def list_secrets(self, workspace_id: str) -> dict[str, str | None]:
        """Provider id → its encrypted secret, for every provider of the workspace."""
        query = select(ToolProviderRow.id, ToolProviderRow.secret_encrypted).where(
            ToolProviderRow.workspace_id == workspace_id
        )
        async with self._session() as session:
            return {pid: secret for pid, secret in (await session.execute(query)).all()}
