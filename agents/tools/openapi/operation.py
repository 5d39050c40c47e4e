"""One OpenAPI operation as a tool's data: its server, its parameters as one flat
JSON-Schema object (see :mod:`agents.tools.openapi`), and how each argument is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from agents.tools.openapi.report import ImportReport
from agents.tools.openapi.schema import SchemaResolver, UnsupportedPart, as_object

_SET_BY_CLIENT = {"accept", "content-type", "authorization"}  # ignored, as the spec says


@dataclass
class OperationParam:
    """One parameter of an operation: its argument's name and how it goes on the wire."""

    arg: str  # the property name in the tool's arguments
    name: str  # the name on the wire
    location: str  # path, query or header
    style: str
    explode: bool
    as_json: bool = False  # declared with ``content`` (application/json): sent JSON-encoded


@dataclass
class OpenApiOperation:
    """One operation, ready to become a tool (internal; rebuilt from the document)."""

    key: str  # "METHOD /path"
    method: str
    path: str
    server_url: str
    name: str = ""
    description: str = ""
    params: list[OperationParam] = field(default_factory=list)
    schema: dict[str, Any] = field(default_factory=dict)
    body_type: str | None = None  # the JSON media type of the request body


def _server(servers: Any, spec_url: str | None) -> str | None:
    """The first server's URL with its variables' defaults, made absolute."""
    if not isinstance(servers, list) or not servers:
        servers = [{"url": "/"}]
    first = servers[0] if isinstance(servers[0], dict) else {}
    url = str(first.get("url", "/"))
    variables = first.get("variables")
    for var, spec in (variables if isinstance(variables, dict) else {}).items():
        default = spec.get("default", "") if isinstance(spec, dict) else ""
        url = url.replace("{" + var + "}", str(default))
    if not urlsplit(url).scheme:
        if not spec_url:
            return None
        url = urljoin(spec_url, url)
    return url if urlsplit(url).scheme in ("http", "https") else None


class OperationReader:
    """Reads the operations of one document, noting what it leaves out on the report."""

    def __init__(
        self,
        doc: dict[str, Any],
        report: ImportReport,
        base_url: str | None,
        spec_url: str | None,
    ) -> None:
        self.doc, self.report = doc, report
        self.v30 = str(doc.get("openapi", "")).startswith("3.0")
        self.refs = SchemaResolver(doc, self.v30)
        self.base_url, self.spec_url = base_url, spec_url

    def read(
        self, method: str, path: str, item: dict[str, Any], op: dict[str, Any]
    ) -> OpenApiOperation | None:
        key = f"{method.upper()} {path}"
        self.refs.nodes = 0
        servers = op.get("servers") or item.get("servers") or self.doc.get("servers")
        server = self.base_url or _server(servers, self.spec_url)
        if not server:
            self.report.add("server", key, "no absolute server URL: give a base URL")
            return None
        if op.get("callbacks"):
            self.report.add("callback", key, "callbacks are not supported; the call is kept")
        result = OpenApiOperation(key=key, method=method.upper(), path=path, server_url=server)
        result.description = str(op.get("summary") or op.get("description") or key)[:1024]
        properties: dict[str, Any] = {}
        required: list[str] = []
        declared = [*(item.get("parameters") or []), *(op.get("parameters") or [])]
        merged: dict[tuple[str, str], Any] = {}
        for raw in declared:  # operation-level parameters override the path item's
            param = self.refs.deref(raw)
            if isinstance(param, dict) and "name" in param and "in" in param:
                merged[(str(param["in"]), str(param["name"]))] = param
        for name in re.findall(r"{([^}/]+)}", path):
            merged.setdefault(("path", name), {"name": name, "in": "path", "required": True})
        for (location, name), param in merged.items():
            self._param(result, key, location, name, param, properties, required)
        body = self.refs.deref(op.get("requestBody"))
        if isinstance(body, dict) and self._body(result, key, body, properties):
            if body.get("required"):
                required.append("body")
        result.schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            result.schema["required"] = required
        return result

    def _param(
        self,
        op: OpenApiOperation,
        key: str,
        location: str,
        name: str,
        param: dict[str, Any],
        properties: dict[str, Any],
        required: list[str],
    ) -> None:
        must = location == "path" or bool(param.get("required"))
        if location == "header" and name.lower() in _SET_BY_CLIENT:
            return
        if location not in ("path", "query", "header"):
            problem = f"{location} parameter {name!r} is not supported"
            if must:
                raise UnsupportedPart("parameter", f"required {problem}")
            self.report.add("parameter", key, f"{problem}; left out")
            return
        as_json = False
        schema = param.get("schema", {"type": "string"})
        if "content" in param:
            media = param["content"] if isinstance(param["content"], dict) else {}
            json_type = next((m for m in media if is_json(m)), None)
            if json_type is None:
                problem = f"{location} parameter {name!r} has a non-JSON media type"
                if must:
                    raise UnsupportedPart("parameter", f"required {problem}")
                self.report.add("parameter", key, f"{problem}; left out")
                return
            entry = media[json_type]
            schema, as_json = entry.get("schema", {}) if isinstance(entry, dict) else {}, True
        prop = as_object(self.refs.schema(schema))
        if param.get("description") and "description" not in prop:
            prop["description"] = str(param["description"])
        arg = name if name not in properties and name != "body" else f"{name}_{location}"
        while arg in properties:
            arg += "_"
        properties[arg] = prop
        if must:
            required.append(arg)
        style = str(param.get("style") or ("form" if location == "query" else "simple"))
        explode = bool(param.get("explode", style == "form"))
        op.params.append(OperationParam(arg, name, location, style, explode, as_json))

    def _body(
        self, op: OpenApiOperation, key: str, body: dict[str, Any], properties: dict[str, Any]
    ) -> bool:
        content = body.get("content")
        content = content if isinstance(content, dict) else {}
        json_type = next((m for m in content if is_json(m)), None)
        if json_type is None:
            kinds = ", ".join(content) or "no media type"
            if body.get("required"):
                raise UnsupportedPart("request_body", f"the request body ({kinds}) is not JSON")
            self.report.add("request_body", key, f"optional {kinds} body left out (not JSON)")
            return False
        media = content[json_type] if isinstance(content[json_type], dict) else {}
        schema = as_object(self.refs.schema(media.get("schema", {}), writing=True))
        if body.get("description") and "description" not in schema:
            schema["description"] = str(body["description"])
        properties["body"] = schema
        op.body_type = json_type
        return True


def is_json(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")
