"""The durable store of workspaces' tool providers (imported OpenAPI documents).

Every call is scoped by workspace: another workspace's provider is "not found".
The secret is stored encrypted (the caller encrypts it) in the row's
``secret_encrypted`` column, never in the record; :meth:`get_secret` and
:meth:`list_secrets` are the only ways to read it back, still encrypted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.errors import InvalidInputError, NotFoundError
from agents.tools.openapi import ToolAuth
from agents.tools.records import ToolProviderRecord
from cluster.store.base_store import BaseSqlStore
from cluster.store.tables import ToolProviderRow


def _spec(record: ToolProviderRecord) -> dict[str, Any]:
    return {
        "document": record.document,
        "spec_url": record.spec_url,
        "base_url": record.base_url,
        "tool_names": record.tool_names,
    }


def _not_found(provider_id: str) -> NotFoundError:
    return NotFoundError(
        f"tool provider {provider_id} not found",
        code="tool_provider_not_found",
        param="provider_id",
    )


def _record(row: ToolProviderRow) -> ToolProviderRecord:
    spec = row.spec or {}
    return ToolProviderRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]
        document=spec.get("document") or {},
        spec_url=spec.get("spec_url"),
        base_url=spec.get("base_url"),
        tool_names=spec.get("tool_names") or {},
        auth=ToolAuth.model_validate(row.auth or {}),
        has_secret=row.secret_encrypted is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlToolProviderStore(BaseSqlStore):
    """Tool providers on a SQL database; call ``start()`` before use."""

    async def create_provider(
        self, record: ToolProviderRecord, secret_encrypted: str | None = None
    ) -> ToolProviderRecord:
        """Store ``record`` with its already encrypted secret; returns the stored record."""
        record = record.model_copy(update={"has_secret": secret_encrypted is not None})
        async with self._workspace_session(record.workspace_id) as session:
            session.add(
                ToolProviderRow(
                    id=record.id,
                    workspace_id=record.workspace_id,
                    name=record.name,
                    kind=record.kind,
                    spec=_spec(record),
                    auth=record.auth.model_dump(mode="json"),
                    secret_encrypted=secret_encrypted,
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                )
            )
            try:
                await session.flush()
            except IntegrityError as exc:
                raise InvalidInputError(f"tool provider '{record.id}' exists") from exc
        return record

    async def _row(
        self, session: AsyncSession, workspace_id: str, provider_id: str
    ) -> ToolProviderRow:
        return await self._owned(session, ToolProviderRow, provider_id, workspace_id, _not_found)

    async def get_provider(self, workspace_id: str, provider_id: str) -> ToolProviderRecord:
        async with self._session() as session:
            return _record(await self._row(session, workspace_id, provider_id))

    async def list_providers(self, workspace_id: str) -> list[ToolProviderRecord]:
        return [_record(row) for row in await self._list_owned(ToolProviderRow, workspace_id)]

    async def delete_provider(self, workspace_id: str, provider_id: str) -> None:
        await self._delete_owned(ToolProviderRow, provider_id, workspace_id, _not_found)

    async def get_secret(self, workspace_id: str, provider_id: str) -> str | None:
        """The provider's secret, encrypted as stored (None when it has none)."""
        async with self._session() as session:
            return (await self._row(session, workspace_id, provider_id)).secret_encrypted

    async def list_secrets(self, workspace_id: str) -> dict[str, str | None]:
        """Provider id → its encrypted secret, for every provider of the workspace."""
        query = select(ToolProviderRow.id, ToolProviderRow.secret_encrypted).where(
            ToolProviderRow.workspace_id == workspace_id
        )
        async with self._session() as session:
            return {pid: secret for pid, secret in (await session.execute(query)).all()}
