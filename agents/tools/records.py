"""A workspace's stored tool provider (an imported OpenAPI document).

The record never holds the secret: the store keeps it encrypted beside the record
and hands it out only through its own method.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.ids import new_id, utcnow
from agents.tools.openapi import ToolAuth


class ToolProviderRecord(BaseModel):
    id: str = Field(default_factory=lambda: new_id("tp"), description="Provider id.")
    workspace_id: str = Field(description="The workspace the provider belongs to.")
    name: str = Field(description="The provider's display name.")
    kind: Literal["openapi"] = Field(default="openapi", description="How its tools are made.")
    document: dict[str, Any] = Field(description="The OpenAPI document, as imported.")
    spec_url: str | None = Field(default=None, description="Where the document was fetched.")
    base_url: str | None = Field(default=None, description="Overrides the document's servers.")
    auth: ToolAuth = Field(default_factory=ToolAuth, description="How the secret is sent.")
    has_secret: bool = Field(default=False, description="A secret is stored (encrypted).")
    tool_names: dict[str, str] = Field(
        default_factory=dict, description="Operation ('METHOD /path') to tool name."
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def summary(self) -> dict[str, Any]:
        """The record as the API lists it: without the document."""
        return self.model_dump(mode="json", exclude={"document"})
