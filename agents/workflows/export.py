"""Our own workflow file format: :func:`export_spec` writes a spec as YAML
(``kind: chorus-workflow``) without literal secrets, :func:`load_spec` reads it back.
:func:`read_yaml` is the safe YAML reader of every workflow file (ours and Dify's)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from pydantic import ValidationError

from agents.errors import InvalidInputError
from agents.workflows.graph import WorkflowSpec
from agents.workflows.variables import TEMPLATE_REF

Data = dict[str, Any]
MAX_TEXT_BYTES = 10 * 1024 * 1024
EXPORT_KIND = "chorus-workflow"
EXPORT_VERSION = 1
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Names of headers, query parameters and tool arguments whose literal values are secrets.
SECRET_NAME = re.compile(r"auth|api[-_]?key|^key$|token|secret|passw|cookie|credential", re.I)
_SCHEME = re.compile(r"^(bearer|basic|token)\b", re.I)


class _ExportDumper(yaml.SafeDumper):
    """Writes repeated values out in full: the readers refuse aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def export_spec(spec: WorkflowSpec) -> str:
    """``spec`` as YAML in our own format, with literal secrets emptied."""
    workflow = spec.model_dump(mode="json", by_alias=True)
    for node in workflow["nodes"]:
        scrub_secrets(node["type"], node["data"])
    document = {"kind": EXPORT_KIND, "version": EXPORT_VERSION, "workflow": workflow}
    return yaml.dump(document, Dumper=_ExportDumper, sort_keys=False, allow_unicode=True)


def load_spec(text: str | bytes) -> WorkflowSpec:
    """Read what :func:`export_spec` wrote; raises InvalidInputError naming the field."""
    doc = read_yaml(text, "the workflow file")
    if doc.get("kind") != EXPORT_KIND:
        hint = " (a Dify export: import it with import_dify)" if doc.get("kind") == "app" else ""
        raise InvalidInputError(
            f"kind is {doc.get('kind')!r}, not {EXPORT_KIND!r}{hint}", param="kind"
        )
    if doc.get("version") != EXPORT_VERSION:
        raise InvalidInputError(
            f"version {doc.get('version')!r} is not supported (this reads {EXPORT_VERSION})",
            param="version",
        )
    try:
        return WorkflowSpec.model_validate(doc.get("workflow"))
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in ("workflow", *e["loc"])), "message": e["msg"]}
            for e in exc.errors()[:20]
        ]
        raise InvalidInputError(
            f"invalid workflow at '{errors[0]['field']}': {errors[0]['message']}",
            param=errors[0]["field"],
            details={"errors": errors},
        ) from exc


def is_literal_secret(value: str) -> bool:
    """Does ``value`` hold literal text beyond references (and a 'Bearer ' prefix)?"""
    rest = TEMPLATE_REF.sub("", value).strip()
    return bool(_SCHEME.sub("", rest).strip())


def scrub_secrets(node_type: str, data: Data) -> list[str]:
    """Empty, in place, the literal secrets of one node's data (our shape): an
    http-request's authorization key and secret-named headers, query parameters and
    form fields, a tool's secret-named arguments. References such as
    ``{{#env.NAME#}}`` stay. Returns the fields emptied."""
    emptied: list[str] = []

    def check(holder: Data, key: str, where: str) -> None:
        value = holder.get(key)
        if isinstance(value, str) and is_literal_secret(value):
            holder[key] = ""
            emptied.append(where)

    if node_type == "http-request":
        auth = data.get("authorization")
        if isinstance(auth, dict):
            check(auth, "api_key", "data.authorization.api_key")
        body = data.get("body")
        lists = {
            "headers": data.get("headers"),
            "params": data.get("params"),
            "body.data": body.get("data") if isinstance(body, dict) else None,
        }
        for name, pairs in lists.items():
            for i, kv in enumerate(pairs if isinstance(pairs, list) else []):
                if isinstance(kv, dict) and SECRET_NAME.search(str(kv.get("key", ""))):
                    check(kv, "value", f"data.{name}.{i}.value")
    elif node_type == "tool":
        for name, arg in (data.get("tool_parameters") or {}).items():
            if isinstance(arg, dict) and arg.get("type") != "variable" and SECRET_NAME.search(name):
                check(arg, "value", f"data.tool_parameters.{name}.value")
    return emptied


def read_yaml(text: str | bytes, what: str) -> Data:
    """``text`` as a YAML mapping of JSON types; InvalidInputError names what is wrong."""
    if len(text) > MAX_TEXT_BYTES:
        raise InvalidInputError(f"{what} is larger than {MAX_TEXT_BYTES // 2**20} MiB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{what} is not UTF-8 text") from exc
    try:
        # Aliases are refused: expanded, a few lines of them can take all the memory.
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=_LOADER)):
            raise InvalidInputError(f"{what} uses YAML aliases (*name), which are not accepted")
        doc = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{what} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{what} is not a YAML mapping")
    # JSON types only from here on (YAML dates become text, keys strings).
    normal: Data = json.loads(json.dumps(doc, default=str))
    return normal
