"""What an import did: the tools made, what was left out or changed, and the auth the
document suggests."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.tools.openapi.auth import ToolAuth


class ImportItem(BaseModel):
    kind: str = Field(
        description="operation, parameter, request_body, server, callback, webhook, "
        "security_scheme, reference or name."
    )
    where: str = Field(description="The operation ('GET /pets/{id}') or document part.")
    message: str = Field(description="What was left out or changed, and why.")


class ImportedTool(BaseModel):
    name: str = Field(description="The tool's name.")
    operation: str = Field(description="Its operation: 'METHOD /path'.")


class ImportReport(BaseModel):
    title: str = Field(default="", description="The document's info.title.")
    tools: list[ImportedTool] = Field(default_factory=list, description="Imported tools.")
    items: list[ImportItem] = Field(default_factory=list, description="What was not imported.")
    suggested_auth: ToolAuth | None = Field(
        default=None, description="The first security scheme that ToolAuth can express."
    )

    def add(self, kind: str, where: str, message: str) -> None:
        self.items.append(ImportItem(kind=kind, where=where, message=message))
