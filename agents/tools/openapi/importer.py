"""Every importable operation of a document, named and reported on."""

from __future__ import annotations

import re
from typing import Any

from agents.tools.openapi.auth import scheme_auth
from agents.tools.openapi.operation import OpenApiOperation, OperationReader
from agents.tools.openapi.report import ImportedTool, ImportReport
from agents.tools.openapi.schema import UnsupportedPart

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


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
    reader = OperationReader(doc, report, base_url, spec_url)
    _security(doc, report)
    hooks = doc.get("webhooks")
    for hook in hooks if isinstance(hooks, dict) else {}:
        report.add("webhook", f"webhooks.{hook}", "webhooks are not supported")
    taken = set(reserved)
    operations: list[OpenApiOperation] = []
    for path, raw_item in (doc.get("paths") or {}).items():
        try:
            item = reader.refs.deref(raw_item)
        except UnsupportedPart as exc:
            report.add(exc.kind, str(path), exc.message)
            continue
        for method in METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if not isinstance(op, dict):
                continue
            try:
                operation = reader.read(method, str(path), item, op)
            except UnsupportedPart as exc:
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
        auth = scheme_auth(scheme)
        if auth is None:
            detail = scheme.get("scheme") or scheme.get("in") or ""
            report.add("security_scheme", where, f"{kind} {detail} auth is not supported".strip())
        elif report.suggested_auth is None:
            report.suggested_auth = auth


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
