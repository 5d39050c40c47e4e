from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.nodes.base import BaseNodeData


class KeyValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Name (may hold {{#node.field#}}).", min_length=1)
    value: str = Field(default="", description="Value (may hold {{#node.field#}}).")


class HttpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "json", "raw-text", "x-www-form-urlencoded", "form-data"] = Field(
        default="none", description="How the body is encoded."
    )
    data: str | list[KeyValue] = Field(
        default="", description="Text for json/raw-text, key/values for the form kinds."
    )


class HttpAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["no-auth", "bearer", "basic", "api-key-header", "api-key-query"] = Field(
        default="no-auth", description="How the request authenticates."
    )
    api_key: str = Field(
        default="",
        description="The secret, or better {{#env.NAME#}}; basic takes 'user:password'.",
    )
    name: str = Field(
        default="X-API-Key", description="Header or query parameter name for the api-key kinds."
    )


class HttpRequestNodeData(BaseNodeData):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = Field(
        default="GET", description="HTTP method."
    )
    url: str = Field(description="http(s) URL (may hold {{#node.field#}}).", min_length=1)
    headers: list[KeyValue] = Field(default_factory=list, description="Request headers.")
    params: list[KeyValue] = Field(default_factory=list, description="Query parameters.")
    body: HttpBody = Field(default_factory=HttpBody, description="Request body.")
    authorization: HttpAuth = Field(default_factory=HttpAuth, description="Authentication.")
    max_response_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Larger responses fail the node."
    )
    fail_on_error_status: bool = Field(
        default=True, description="Treat HTTP 4xx/5xx as a node failure (error strategy applies)."
    )
