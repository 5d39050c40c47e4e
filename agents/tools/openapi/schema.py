"""An operation's JSON Schemas, inlined: local ``$ref``s resolved (a recursive one
becomes an unconstrained schema), OpenAPI 3.0 spellings rewritten as JSON Schema,
read-only properties dropped from request bodies, the size bounded."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

MAX_SCHEMA_NODES = 20_000  # one operation's inlined schemas may not be bigger
_DROPPED = {"example", "examples", "xml", "externalDocs", "discriminator", "deprecated"}
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMA_ONE = set(
    "items not additionalProperties contains if then else propertyNames"
    " unevaluatedItems unevaluatedProperties additionalItems".split()
)


class UnsupportedPart(Exception):
    """A part of the document that cannot be imported (``kind`` as in the report)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


class SchemaResolver:
    """Local ``$ref`` resolution with a cycle guard and a size budget."""

    def __init__(self, doc: dict[str, Any], v30: bool) -> None:
        self.doc = doc
        self.v30 = v30
        self.nodes = 0

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UnsupportedPart("reference", f"external reference {ref!r} is not supported")
        node: Any = self.doc
        for part in [p for p in unquote(ref[1:]).split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise UnsupportedPart("reference", f"reference {ref!r} points to nothing")
        return node

    def deref(self, node: Any) -> Any:
        """Follow ``$ref`` (parameters, bodies, path items) until a real object."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            if node["$ref"] in seen:
                raise UnsupportedPart("reference", f"reference cycle at {node['$ref']!r}")
            seen.add(node["$ref"])
            node = self.lookup(node["$ref"])
        return node

    def schema(self, node: Any, *, writing: bool = False, stack: tuple[str, ...] = ()) -> Any:
        """An inlined, cleaned JSON Schema (3.0 ``nullable`` and boolean exclusive bounds
        rewritten; read-only properties dropped from request bodies)."""
        self.nodes += 1
        if self.nodes > MAX_SCHEMA_NODES:
            raise UnsupportedPart("operation", "its schemas are too large once references inline")
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
            return {**as_object(target), **self.schema(rest, writing=writing, stack=stack)}
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


def as_object(schema: Any) -> dict[str, Any]:
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
