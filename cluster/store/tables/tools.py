"""The table of workspaces' tool providers (imported OpenAPI documents)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cluster.store.tables.base import SpecRow, json_column


class ToolProviderRow(SpecRow):
    """A workspace's custom tools (an imported OpenAPI spec); the secret is encrypted."""

    __tablename__ = "tool_providers"

    kind: Mapped[str] = mapped_column(String(16))
    auth: Mapped[dict[str, Any]] = mapped_column(json_column())
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
