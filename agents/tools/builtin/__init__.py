"""The built-in tools, and the function that builds the registry of them."""

from __future__ import annotations

from agents.outbound import HttpClientProtocol
from agents.sandbox.code_runner import CodeRunnerProtocol
from agents.tools.base import BaseTool
from agents.tools.builtin.calculator import CalculatorTool
from agents.tools.builtin.clock import ConvertTimeTool, CurrentTimeTool
from agents.tools.builtin.code import RunCodeTool
from agents.tools.builtin.knowledge import KnowledgeSearchTool
from agents.tools.builtin.web import HttpRequestTool, ReadWebpageTool

__all__ = [
    "CalculatorTool",
    "ConvertTimeTool",
    "CurrentTimeTool",
    "HttpRequestTool",
    "KnowledgeSearchTool",
    "ReadWebpageTool",
    "RunCodeTool",
    "builtin_tools",
]


def builtin_tools(
    *, http: HttpClientProtocol | None = None, code: CodeRunnerProtocol | None = None
) -> list[BaseTool]:
    """The tools every workspace has (those needing a service only when it is given).
    search_knowledge and workflow tools depend on the app; they are added per app."""
    tools: list[BaseTool] = [CurrentTimeTool(), ConvertTimeTool(), CalculatorTool()]
    if http is not None:
        tools += [HttpRequestTool(http), ReadWebpageTool(http)]
    if code is not None:
        tools.append(RunCodeTool(code))
    return tools
