"""tool from Dify: the tool's name and arguments (it must be bound to one of ours)."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext, as_dict


def map_tool(raw: Data, m: MappingContext) -> Data:
    name = str(raw.get("tool_name") or "")
    arguments: Data = {}
    configurations = raw.get("tool_configurations")
    for key, value in as_dict(configurations).items():
        if isinstance(value, dict) and "type" in value:  # newer DSLs: {type, value}
            if value.get("value") is not None:
                arguments[str(key)] = _tool_argument(value, str(key), m)
        elif value is not None:
            arguments[str(key)] = {"type": "constant", "value": value}
    parameters = raw.get("tool_parameters")
    for key, value in as_dict(parameters).items():
        if isinstance(value, dict) and value.get("value") is not None:
            arguments[str(key)] = _tool_argument(value, str(key), m)
    plugin = raw.get("plugin_unique_identifier")
    provider = str(raw.get("provider_id") or raw.get("provider_name") or "")
    source = (
        f"marketplace plugin {plugin}" if plugin else f"{provider} ({raw.get('provider_type')})"
    )
    m.note(
        "needs_mapping",
        "tool_name",
        f"Dify tool {name!r} from {source}: "
        "bind one of this server's tools of that name or pick another",
    )
    return {"tool_name": name, "tool_parameters": arguments}


def _tool_argument(value: Data, key: str, m: MappingContext) -> Data:
    kind = value.get("type")
    where = f"tool_parameters.{key}.value"
    if kind == "variable":
        return {"type": "variable", "value": m.selector(value.get("value"), where)}
    if kind == "mixed":
        return {"type": "mixed", "value": m.text(str(value.get("value") or ""), where)}
    return {"type": "constant", "value": value.get("value")}
