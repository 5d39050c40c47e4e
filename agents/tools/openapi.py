"""Custom tools from an OpenAPI 3.0/3.1 document: one :class:`OpenApiTool` per operation.

A tool's ``parameters`` is one flat JSON-Schema object: every path, query and header
parameter is a property under its own name, and the JSON request body (whatever its
schema: object, array or scalar) is the property ``body``. A parameter whose name is
already taken (a second location, or a parameter literally called ``body``) becomes
``<name>_<location>``. Flat names are what small models fill in best; keeping the body
whole avoids clashes between body fields and parameters.

Local ``$ref``s are inlined (a recursive reference becomes an unconstrained schema);
what cannot be imported (non-JSON bodies, cookie parameters, callbacks, webhooks,
unsupported security schemes, operations without a server URL) is named in the
:class:`ImportReport` and the rest is imported. The HTTP client comes in as a
:class:`HttpClientProtocol` (the SSRF guard's ``fetch``); the secret is given to the
tool at construction and never stored on a model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, unquote, urlencode, urljoin, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.errors import ChorusError, InvalidInputError
from agents.outbound import HttpClientProtocol
from agents.tools.base import BaseTool, ToolArgumentsError, ToolError

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_NODES = 200_000  # a parsed document (YAML aliases expanded) may not be bigger
MAX_SCHEMA_NODES = 20_000  # nor one operation's inlined schemas
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_DROPPED = {"example", "examples", "xml", "externalDocs", "discriminator", "deprecated"}
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMA_ONE = set(
    "items not additionalProperties contains if then else propertyNames"
    " unevaluatedItems unevaluatedProperties additionalItems".split()
)
_SET_BY_CLIENT = {"accept", "content-type", "authorization"}  # ignored, as the spec says


class OpenApiError(InvalidInputError):
    """The document does not parse, or is not an OpenAPI 3 document."""

    code = "openapi_invalid"


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


# -- the document ------------------------------------------------------------------------


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


class _Refs:
    """Local ``$ref`` resolution with a cycle guard and a size budget."""

    def __init__(self, doc: dict[str, Any], v30: bool) -> None:
        self.doc = doc
        self.v30 = v30
        self.nodes = 0

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise _Unsupported("reference", f"external reference {ref!r} is not supported")
        node: Any = self.doc
        for part in [p for p in unquote(ref[1:]).split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise _Unsupported("reference", f"reference {ref!r} points to nothing")
        return node

    def deref(self, node: Any) -> Any:
        """Follow ``$ref`` (parameters, bodies, path items) until a real object."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            if node["$ref"] in seen:
                raise _Unsupported("reference", f"reference cycle at {node['$ref']!r}")
            seen.add(node["$ref"])
            node = self.lookup(node["$ref"])
        return node

    def schema(self, node: Any, *, writing: bool = False, stack: tuple[str, ...] = ()) -> Any:
        """An inlined, cleaned JSON Schema (3.0 ``nullable`` and boolean exclusive bounds
        rewritten; read-only properties dropped from request bodies)."""
        self.nodes += 1
        if self.nodes > MAX_SCHEMA_NODES:
            raise _Unsupported("operation", "its schemas are too large once references inline")
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in stack:
                return {"description": f"(recursive: {ref.rsplit('/', 1)[-1]})"}
            target = self.schema(self.lookup(ref), writing=writing, stack=(*stack, ref))
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if not rest:
                return target
            return {**_object(target), **self.schema(rest, writing=writing, stack=stack)}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED or (self.v30 and key == "nullable"):
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {
                    k: self.schema(v, writing=writing, stack=stack) for k, v in value.items()
                }
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.schema(v, writing=writing, stack=stack) for v in value]
            elif key in _SCHEMA_ONE:
                out[key] = self.schema(value, writing=writing, stack=stack)
            else:
                out[key] = value
        if writing and isinstance(out.get("properties"), dict):
            hidden = {k for k, v in out["properties"].items() if _flag(v, "readOnly")}
            out["properties"] = {k: v for k, v in out["properties"].items() if k not in hidden}
            if isinstance(out.get("required"), list):
                out["required"] = [r for r in out["required"] if r not in hidden]
        if self.v30:
            _from_v30(node, out)
        return out


class _Unsupported(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _object(schema: Any) -> dict[str, Any]:
    """A schema as an object (JSON Schema's ``true``/``false`` written out)."""
    if isinstance(schema, dict):
        return dict(schema)
    return {} if schema is not False else {"not": {}}


def _flag(schema: Any, key: str) -> bool:
    return isinstance(schema, dict) and schema.get(key) is True


def _from_v30(source: dict[str, Any], out: dict[str, Any]) -> None:
    if source.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for bound, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        if isinstance(out.get(exclusive), bool):
            if out.pop(exclusive) and bound in out:
                out[exclusive] = out.pop(bound)


# -- operations --------------------------------------------------------------------------


@dataclass
class _Param:
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
    params: list[_Param] = field(default_factory=list)
    schema: dict[str, Any] = field(default_factory=dict)
    body_type: str | None = None  # the JSON media type of the request body


def sanitise_name(raw: str) -> str:
    """``raw`` reduced to ``^[A-Za-z0-9_-]{1,64}$`` (empty if nothing is left)."""
    return _UNSAFE_NAME.sub("_", raw).strip("_")[:64].strip("_")


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[: 64 - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


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


class _OperationReader:
    def __init__(
        self,
        doc: dict[str, Any],
        report: ImportReport,
        base_url: str | None,
        spec_url: str | None,
    ) -> None:
        self.doc, self.report = doc, report
        self.v30 = str(doc.get("openapi", "")).startswith("3.0")
        self.refs = _Refs(doc, self.v30)
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
                raise _Unsupported("parameter", f"required {problem}")
            self.report.add("parameter", key, f"{problem}; left out")
            return
        as_json = False
        schema = param.get("schema", {"type": "string"})
        if "content" in param:
            media = param["content"] if isinstance(param["content"], dict) else {}
            json_type = next((m for m in media if _is_json(m)), None)
            if json_type is None:
                problem = f"{location} parameter {name!r} has a non-JSON media type"
                if must:
                    raise _Unsupported("parameter", f"required {problem}")
                self.report.add("parameter", key, f"{problem}; left out")
                return
            entry = media[json_type]
            schema, as_json = entry.get("schema", {}) if isinstance(entry, dict) else {}, True
        prop = _object(self.refs.schema(schema))
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
        op.params.append(_Param(arg, name, location, style, explode, as_json))

    def _body(
        self, op: OpenApiOperation, key: str, body: dict[str, Any], properties: dict[str, Any]
    ) -> bool:
        content = body.get("content")
        content = content if isinstance(content, dict) else {}
        json_type = next((m for m in content if _is_json(m)), None)
        if json_type is None:
            kinds = ", ".join(content) or "no media type"
            if body.get("required"):
                raise _Unsupported("request_body", f"the request body ({kinds}) is not JSON")
            self.report.add("request_body", key, f"optional {kinds} body left out (not JSON)")
            return False
        media = content[json_type] if isinstance(content[json_type], dict) else {}
        schema = _object(self.refs.schema(media.get("schema", {}), writing=True))
        if body.get("description") and "description" not in schema:
            schema["description"] = str(body["description"])
        properties["body"] = schema
        op.body_type = json_type
        return True


def _is_json(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def read_operations(
    doc: dict[str, Any],
    *,
    base_url: str | None = None,
    spec_url: str | None = None,
    names: dict[str, str] | None = None,
    reserved: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[OpenApiOperation], ImportReport]:
    """Every importable operation of ``doc`` (from :func:`load_openapi`) and the report.

    ``names`` (operation key → tool name, as stored at import) pins the names; otherwise
    they come from operationId (else ``method_path``), unique and not in ``reserved``."""
    info = doc.get("info")
    report = ImportReport(title=str(info.get("title", "")) if isinstance(info, dict) else "")
    reader = _OperationReader(doc, report, base_url, spec_url)
    _security(doc, report)
    hooks = doc.get("webhooks")
    for hook in hooks if isinstance(hooks, dict) else {}:
        report.add("webhook", f"webhooks.{hook}", "webhooks are not supported")
    taken = set(reserved)
    operations: list[OpenApiOperation] = []
    for path, raw_item in (doc.get("paths") or {}).items():
        try:
            item = reader.refs.deref(raw_item)
        except _Unsupported as exc:
            report.add(exc.kind, str(path), exc.message)
            continue
        for method in METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if not isinstance(op, dict):
                continue
            try:
                operation = reader.read(method, str(path), item, op)
            except _Unsupported as exc:
                report.add(exc.kind, f"{method.upper()} {path}", f"not imported: {exc.message}")
                continue
            except RecursionError:
                report.add("operation", f"{method.upper()} {path}", "schemas nested too deeply")
                continue
            except (AttributeError, TypeError, ValueError) as exc:
                where = f"{method.upper()} {path}"
                report.add("operation", where, f"not imported: malformed ({exc})")
                continue
            if operation is None:
                continue
            if names is not None:
                if operation.key not in names:
                    continue
                operation.name = names[operation.key]
            else:
                operation.name = _name(operation, op, taken, report)
            operations.append(operation)
            report.tools.append(ImportedTool(name=operation.name, operation=operation.key))
    return operations, report


def _name(
    operation: OpenApiOperation, op: dict[str, Any], taken: set[str], report: ImportReport
) -> str:
    base = sanitise_name(str(op.get("operationId") or ""))
    if not base:
        words = re.findall(r"[A-Za-z0-9-]+", operation.path)
        base = sanitise_name("_".join([operation.method.lower(), *words]))
    name = _unique(base, taken)
    if name != base:
        report.add("name", operation.key, f"named {name!r}: {base!r} is already taken")
    return name


def _security(doc: dict[str, Any], report: ImportReport) -> None:
    components = doc.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    for scheme_name, raw in (schemes if isinstance(schemes, dict) else {}).items():
        scheme = raw if isinstance(raw, dict) else {}
        kind, where = scheme.get("type"), f"components.securitySchemes.{scheme_name}"
        auth: ToolAuth | None = None
        if kind == "apiKey" and scheme.get("in") in ("header", "query") and scheme.get("name"):
            placed = "api_key_header" if scheme["in"] == "header" else "api_key_query"
            auth = ToolAuth.model_validate({"type": placed, "name": str(scheme["name"])})
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            auth = ToolAuth(type="bearer")
        if auth is None:
            detail = scheme.get("scheme") or scheme.get("in") or ""
            report.add("security_scheme", where, f"{kind} {detail} auth is not supported".strip())
        elif report.suggested_auth is None:
            report.suggested_auth = auth


# -- the tool ----------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _query_pairs(p: _Param, value: Any) -> list[tuple[str, str]]:
    if p.as_json:
        return [(p.name, json.dumps(value, separators=(",", ":")))]
    if isinstance(value, dict):
        if p.style == "deepObject":
            return [(f"{p.name}[{k}]", _scalar(v)) for k, v in value.items()]
        if p.explode:
            return [(str(k), _scalar(v)) for k, v in value.items()]
        return [(p.name, ",".join(f"{k},{_scalar(v)}" for k, v in value.items()))]
    if isinstance(value, list):
        if p.explode and p.style == "form":
            return [(p.name, _scalar(v)) for v in value]
        sep = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(p.style, ",")
        return [(p.name, sep.join(_scalar(v) for v in value))]
    return [(p.name, _scalar(value))]


def _simple(p: _Param, value: Any, encode: bool) -> str:
    """Path and header values (style ``simple``)."""
    enc = (lambda s: quote(s, safe="")) if encode else (lambda s: s)
    if p.as_json:
        return enc(json.dumps(value, separators=(",", ":")))
    if isinstance(value, list):
        return ",".join(enc(_scalar(v)) for v in value)
    if isinstance(value, dict):
        joint = "=" if p.explode else ","
        return ",".join(f"{enc(str(k))}{joint}{enc(_scalar(v))}" for k, v in value.items())
    return enc(_scalar(value))


class OpenApiTool(BaseTool):
    """One operation of an imported API, called through the guarded HTTP client."""

    source = "openapi"
    max_response_bytes = 2 * 1024 * 1024

    def __init__(
        self,
        operation: OpenApiOperation,
        client: HttpClientProtocol,
        *,
        auth: ToolAuth | None = None,
        secret: str | None = None,
        provider_id: str = "",
    ) -> None:
        self.operation = operation
        self.name = operation.name
        self.description = operation.description
        self.parameters = operation.schema
        self.provider_id = provider_id
        self._client = client
        self._auth = auth or ToolAuth()
        if self._auth.type != "none" and not secret:
            raise InvalidInputError(f"auth type {self._auth.type} needs a secret", param="secret")
        self._secret = secret or ""

    def info(self) -> dict[str, Any]:
        return {**super().info(), "provider_id": self.provider_id, "operation": self.operation.key}

    def request(self, arguments: dict[str, Any]) -> tuple[str, dict[str, str], bytes | None]:
        """The URL, headers and body of the call for ``arguments``."""
        op = self.operation
        path, query = op.path, []
        headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.5"}
        for p in op.params:
            if p.arg not in arguments:
                continue
            value = arguments[p.arg]
            if p.location == "path":
                path = path.replace("{" + p.name + "}", _simple(p, value, encode=True))
            elif p.location == "query":
                query.extend(_query_pairs(p, value))
            else:
                text = _simple(p, value, encode=False)
                if "\r" in text or "\n" in text:
                    raise ToolArgumentsError(f"{self.name}: header {p.name} has a line break")
                headers[p.name] = text
        content = None
        if op.body_type is not None and "body" in arguments:
            headers["Content-Type"] = op.body_type
            content = json.dumps(arguments["body"], ensure_ascii=False).encode()
        if self._auth.type == "api_key_header":
            headers[self._auth.name] = self._secret
        elif self._auth.type == "bearer":
            headers["Authorization"] = f"Bearer {self._secret}"
        elif self._auth.type == "api_key_query":
            query.append((self._auth.name, self._secret))
        url = op.server_url.rstrip("/") + path
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, quote_via=quote)
        return url, headers, content

    async def run(self, arguments: dict[str, Any]) -> Any:
        """The parsed JSON answer (or its text); ToolError ``tool_http_error`` for 4xx/5xx."""
        url, headers, content = self.request(arguments)
        try:
            result = await self._client.fetch(
                url,
                method=self.operation.method,
                headers=headers,
                content=content,
                max_bytes=self.max_response_bytes,
            )
        except ChorusError as exc:
            raise self._redacted(exc) from None
        text = result.content.decode("utf-8", "replace")
        if result.status_code >= 400:
            excerpt = self._redact(text[:500])
            raise ToolError(
                f"{self.name}: the API answered HTTP {result.status_code}",
                code="tool_http_error",
                details={"tool": self.name, "status": result.status_code, "body": excerpt},
            )
        content_type = result.headers.get("content-type", "").lower()
        if "json" in content_type and text.strip():
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _redacted(self, exc: ChorusError) -> ChorusError:
        """``exc`` with the secret (e.g. in a query string) taken out of its message."""
        exc.message = self._redact(exc.message)
        exc.args = (exc.message,)
        exc.details = json.loads(self._redact(json.dumps(exc.details, default=str)))
        if self._secret and self._secret in str(exc.__cause__):
            exc.__cause__ = None  # e.g. the HTTP library's error, quoting the URL
        return exc


def build_tools(
    doc: dict[str, Any],
    client: HttpClientProtocol,
    *,
    auth: ToolAuth | None = None,
    secret: str | None = None,
    base_url: str | None = None,
    spec_url: str | None = None,
    provider_id: str = "",
    names: dict[str, str] | None = None,
    reserved: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[OpenApiTool], ImportReport]:
    """One tool per importable operation of ``doc`` (see :func:`read_operations`)."""
    operations, report = read_operations(
        doc, base_url=base_url, spec_url=spec_url, names=names, reserved=reserved
    )
    tools = [
        OpenApiTool(op, client, auth=auth, secret=secret, provider_id=provider_id)
        for op in operations
    ]
    return tools, report
