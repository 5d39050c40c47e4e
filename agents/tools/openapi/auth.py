"""How an imported tool sends its secret, and which of a document's security schemes
that can express."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ToolAuth(BaseModel):
    """How the secret is sent; the secret itself is never part of this model."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "api_key_header", "api_key_query", "bearer"] = Field(
        default="none",
        description="Where the secret goes: a header, a query parameter, or "
        "'Authorization: Bearer <secret>'.",
    )
    name: str = Field(
        default="", max_length=128, description="The header or query parameter's name."
    )

    @model_validator(mode="after")
    def _named(self) -> ToolAuth:
        if self.type in ("api_key_header", "api_key_query") and not self.name.strip():
            raise ValueError(f"auth type {self.type} needs the name of the key")
        return self


def scheme_auth(scheme: dict[str, Any]) -> ToolAuth | None:
    """The :class:`ToolAuth` of one OpenAPI security scheme, None if it cannot say it."""
    kind = scheme.get("type")
    if kind == "apiKey" and scheme.get("in") in ("header", "query") and scheme.get("name"):
        placed = "api_key_header" if scheme["in"] == "header" else "api_key_query"
        return ToolAuth.model_validate({"type": placed, "name": str(scheme["name"])})
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return ToolAuth(type="bearer")
    return None
