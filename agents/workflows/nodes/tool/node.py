"""The tool node: call a registered tool with arguments taken from the run."""

from __future__ import annotations

import json
from typing import Any

import structlog
from pydantic import BaseModel

from agents.errors import ChorusError
from agents.workflows.context import NodeContext, ToolLookupProtocol
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import VariableNotFoundError
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference, refs_in
from agents.workflows.nodes.tool.dify import map_tool
from agents.workflows.nodes.tool.entities import ToolNodeData
from agents.workflows.nodes.tool.errors import ToolFailedError
from agents.workflows.variables import VarType

log = structlog.get_logger(__name__)
_MISSING = object()


class ToolNode(BaseNode[ToolNodeData]):
    type = "tool"
    data_model = ToolNodeData
    dify = DifyMapping(("tool",), map_tool)

    def output_types(self) -> dict[str, VarType]:
        return {"text": "string", "json": "any"}

    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for name, arg in self.data.tool_parameters.items():
            where = f"tool_parameters.{name}.value"
            if arg.type == "variable":
                refs.append(Reference(list(arg.value), where))
            elif arg.type == "mixed":
                refs += refs_in(arg.value, where)
        return refs

    async def run(self, ctx: NodeContext) -> NodeResult:
        name = self.data.tool_name
        tools: ToolLookupProtocol = ctx.services.need("tools")
        tool = tools.get(name)
        required = set(tool.parameters.get("required") or [])
        arguments: dict[str, Any] = {}
        for key, arg in self.data.tool_parameters.items():
            if arg.type == "constant":
                arguments[key] = arg.value
            elif arg.type == "mixed":
                arguments[key] = ctx.pool.render(arg.value)
            else:
                value = ctx.pool.get(arg.value, _MISSING)
                if value is not _MISSING:
                    arguments[key] = value
                elif key in required:
                    raise VariableNotFoundError(arg.value)
        try:
            result = await tool.call(arguments)
        except ChorusError:
            raise
        except Exception as exc:
            log.warning("workflow_tool_failed", tool=name, error=repr(exc))
            raise ToolFailedError(f"tool {name} failed: {exc}", details={"tool": name}) from exc
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return NodeResult(outputs={"text": as_text(result), "json": result}, inputs=arguments)


def as_text(result: Any) -> str:
    """A tool's result as text: strings as they are, nothing as empty, the rest as JSON."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, default=str)
