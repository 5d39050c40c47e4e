"""http-request from Dify: method, URL, key/value lists, body, auth and timeouts."""

from __future__ import annotations

from typing import Any

from agents.workflows.dify.mapping import Data, MappingContext, as_dict, clamp, dicts


def _pairs(value: Any, where: str, m: MappingContext) -> list[Data]:
    """Dify's 'key:value' lines (or [{key, value}]) as our key/values."""
    if isinstance(value, list):
        items = [(str(kv.get("key") or ""), kv.get("value")) for kv in dicts(value)]
    else:
        lines = str(value or "").splitlines()
        items = [(ln.partition(":")[0], ln.partition(":")[2]) for ln in lines if ln.strip()]
    return [
        {
            "key": m.text(k.strip(), f"{where}.{i}.key"),
            "value": m.text(str(v or "").strip(), f"{where}.{i}.value"),
        }
        for i, (k, v) in enumerate(items)
        if k.strip()
    ]


def map_http_request(raw: Data, m: MappingContext) -> Data:
    method = str(raw.get("method") or "get").upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
        m.note("needs_mapping", "method", f"method {method} is not supported; set to GET")
        method = "GET"
    out: Data = {
        "method": method,
        "url": m.text(raw.get("url"), "url"),
        "headers": _pairs(raw.get("headers"), "headers", m),
        "params": _pairs(raw.get("params"), "params", m),
        "body": _body(raw.get("body"), m),
        "authorization": _authorization(raw.get("authorization"), m),
        # Dify fails on a 4xx/5xx answer only when an error strategy or retry is set.
        "fail_on_error_status": bool(
            raw.get("error_strategy") not in (None, "", "none")
            or as_dict(raw.get("retry_config")).get("retry_enabled")
        ),
    }
    timeout = as_dict(raw.get("timeout"))
    seconds = sum(float(v) for v in timeout.values() if clamp(v, 0, 3600))
    if seconds:
        out["timeout_s"] = min(float(seconds), 3600.0)
    if raw.get("ssl_verify") is False:
        m.note("dropped", "ssl_verify", "certificates are always verified here")
    return out


def _body(raw: Any, m: MappingContext) -> Data:
    raw = as_dict(raw)
    kind, data = str(raw.get("type") or "none"), raw.get("data")
    if kind in ("json", "raw-text"):
        if isinstance(data, list):
            data = next((str(i.get("value") or "") for i in dicts(data)), "")
        return {"type": kind, "data": m.text(data, "body.data")}
    if kind in ("x-www-form-urlencoded", "form-data"):
        files = [i for i in dicts(data) if i.get("type") == "file"]
        if files:
            m.note("dropped", "body.data", "file fields of a form body are not supported")
        fields = [i for i in data if i not in files] if isinstance(data, list) else data
        return {"type": kind, "data": _pairs(fields, "body.data", m)}
    if kind not in ("none", ""):
        m.note("needs_mapping", "body.type", f"a {kind} body is not supported; it was left out")
    return {"type": "none", "data": ""}


def _authorization(raw: Any, m: MappingContext) -> Data:
    raw = as_dict(raw)
    config = as_dict(raw.get("config"))
    if raw.get("type") != "api-key":
        return {"type": "no-auth"}
    kind = config.get("type")
    key = m.text(str(config.get("api_key") or ""), "authorization.api_key")
    header = str(config.get("header") or "Authorization")
    if kind == "custom":
        return {"type": "api-key-header", "api_key": key, "name": header}
    if header.lower() != "authorization":
        prefix = "Bearer " if kind == "bearer" else "Basic "
        m.note("info", "authorization", f"{kind} auth in header {header} is an api-key header")
        return {"type": "api-key-header", "api_key": prefix + key, "name": header}
    if kind == "basic":
        m.note("info", "authorization.api_key", "basic auth takes 'user:password' here")
        return {"type": "basic", "api_key": key}
    return {"type": "bearer", "api_key": key}
