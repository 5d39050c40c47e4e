"""The REST API for tools (``/api/tools``): the tools a workspace can use, and its custom
tool providers imported from OpenAPI documents. Secrets go in, never out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from agents.tools.openapi import ImportReport, ToolAuth
from agents.tools.records import ToolProviderRecord
from agents.tools.service import MAX_SPEC_BYTES, ToolService
from channels.auth import READ, WRITE, audit
from channels.auth import workspace as in_workspace
from channels.responses import DataList
from channels.rest_api import services

router = APIRouter(prefix="/api/tools", tags=["tools"])


class OpenApiImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="The provider's display name.")
    spec: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SPEC_BYTES,
        description="The OpenAPI 3 document (JSON or YAML text).",
    )
    url: str | None = Field(
        default=None, min_length=1, description="Where to fetch the document instead."
    )
    auth: ToolAuth = Field(default_factory=ToolAuth, description="How the secret is sent.")
    secret: SecretStr | None = Field(
        default=None, description="The API key or token; stored encrypted, never shown."
    )
    base_url: str | None = Field(
        default=None, description="Call this URL instead of the document's servers."
    )

    @model_validator(mode="after")
    def _one_source(self) -> OpenApiImportBody:
        if (self.spec is None) == (self.url is None):
            raise ValueError("give either spec (the document's text) or url")
        return self


class OpenApiImport(BaseModel):
    provider: ToolProviderRecord = Field(description="The provider stored (not its document).")
    report: ImportReport = Field(description="The tools made, and what was left out and why.")


#: A provider is listed without its document (as ToolProviderRecord.summary() does).
_WITHOUT_DOCUMENT = {"document"}


def _tools(request: Request) -> ToolService:
    return services(request).tools


@router.get("", summary="The tools the workspace can use, with their schemas")
async def list_tools(
    request: Request, workspace: str = in_workspace(READ)
) -> DataList[dict[str, Any]]:
    # Each tool's info, as the tool gives it: its keys depend on the kind of tool.
    return DataList(data=await _tools(request).list_tools(workspace))


@router.post(
    "/openapi",
    status_code=201,
    summary="Import tools from an OpenAPI 3 document",
    response_model_by_alias=False,
    response_model_exclude={"provider": _WITHOUT_DOCUMENT},
)
async def import_openapi(
    body: OpenApiImportBody, request: Request, workspace: str = in_workspace(WRITE)
) -> OpenApiImport:
    record, report = await _tools(request).import_openapi(
        workspace,
        body.name,
        spec=body.spec,
        url=body.url,
        auth=body.auth,
        secret=body.secret.get_secret_value() if body.secret is not None else None,
        base_url=body.base_url,
    )
    if body.secret is not None:
        await audit(
            request, "secret.updated", workspace_id=workspace, target=record.id, name=record.name
        )
    return OpenApiImport(provider=record, report=report)


@router.get(
    "/providers",
    summary="List the workspace's tool providers",
    response_model_by_alias=False,
    response_model_exclude={"data": {"__all__": _WITHOUT_DOCUMENT}},
)
async def list_providers(
    request: Request, workspace: str = in_workspace(READ)
) -> DataList[ToolProviderRecord]:
    return DataList(data=await _tools(request).store.list_providers(workspace))


@router.delete("/providers/{provider_id}", status_code=204, summary="Delete a tool provider")
async def delete_provider(
    provider_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> Response:
    await _tools(request).delete_provider(workspace, provider_id)
    return Response(status_code=204)
