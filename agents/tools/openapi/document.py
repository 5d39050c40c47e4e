"""Reading an OpenAPI document: JSON or YAML text to plain JSON data, checked to be
OpenAPI 3.x and bounded in size (YAML aliases cannot blow it up)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from agents import error_codes
from agents.errors import InvalidInputError

MAX_NODES = 200_000  # a parsed document (YAML aliases expanded) may not be bigger


class OpenApiError(InvalidInputError):
    """The document does not parse, or is not an OpenAPI 3 document."""

    code = error_codes.OPENAPI_INVALID


def load_openapi(text: str) -> dict[str, Any]:
    """The document as plain JSON data; raises OpenApiError naming the problem."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        if not isinstance(data, dict):
            raise OpenApiError("the OpenAPI document must be a JSON or YAML object", param="spec")
        data = dict(_plain(data, [0]))
    except RecursionError as exc:
        raise OpenApiError("the OpenAPI document is nested too deeply", param="spec") from exc
    except (ValueError, yaml.YAMLError) as exc:
        raise OpenApiError(f"the OpenAPI document does not parse: {exc}", param="spec") from exc
    version = data.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = f"swagger {data['swagger']}" if "swagger" in data else f"openapi {version!r}"
        raise OpenApiError(f"only OpenAPI 3.x documents are supported, not {found}", param="spec")
    if not isinstance(data.get("paths", {}), dict):
        raise OpenApiError("the document's 'paths' must be an object", param="spec")
    return data


def _plain(node: Any, count: list[int]) -> Any:
    """A JSON-safe copy (YAML dates become strings), refusing alias bombs by size."""
    count[0] += 1
    if count[0] > MAX_NODES:
        raise OpenApiError(f"the OpenAPI document has more than {MAX_NODES} nodes", param="spec")
    if isinstance(node, dict):
        return {str(k): _plain(v, count) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v, count) for v in node]
    if node is None or isinstance(node, str | int | float | bool):
        return node
    return str(node)
