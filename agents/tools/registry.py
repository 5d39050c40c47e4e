"""The one tool registry: filled at start-up (built-ins, then the ``chorus.tools`` entry
points, then per-workspace OpenAPI and workflow tools given at lookup), read-only after."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

import structlog

from agents import error_codes
from agents.errors import InvalidInputError, NotFoundError
from agents.tools.base import NAME, BaseTool

log = structlog.get_logger(__name__)
ENTRY_POINT_GROUP = "chorus.tools"


class ToolRegistry:
    def __init__(self, tools: Iterable[BaseTool] = ()) -> None:
        self._tools: dict[str, BaseTool] = {}
        self._frozen = False
        for tool in tools:
            self.register(tool)

    def register(self, tool: BaseTool) -> None:
        if self._frozen:
            raise RuntimeError("the tool registry is read-only after start-up")
        if not NAME.match(tool.name):
            raise InvalidInputError(f"tool name {tool.name!r} must match {NAME.pattern}")
        if tool.name in self._tools:
            raise InvalidInputError(f"tool {tool.name!r} is registered twice")
        self._tools[tool.name] = tool

    def freeze(self) -> ToolRegistry:
        self._frozen = True
        return self

    def get(self, name: str) -> BaseTool:
        tool = self._tools.get(name)
        if tool is None:
            raise NotFoundError(
                f"no tool named {name!r}", code=error_codes.TOOL_NOT_FOUND, details={"tool": name}
            )
        return tool

    def names(self) -> list[str]:
        return sorted(self._tools)

    def list(self) -> list[dict[str, Any]]:
        return [self._tools[n].info() for n in self.names()]

    def with_extra(self, extra: Iterable[BaseTool]) -> ToolRegistry:
        """A registry of these tools plus ``extra`` (a workspace's own), for one lookup."""
        combined = ToolRegistry(self._tools.values())
        for tool in extra:
            combined.register(tool)
        return combined.freeze()


def load_plugins(registry: ToolRegistry, **services: Any) -> None:
    """Add the tools third parties publish under ``chorus.tools`` (each entry point is a
    factory called with the services it asks for by keyword)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            factory = ep.load()
            made = factory(**services)
            for tool in made if isinstance(made, list | tuple) else [made]:
                registry.register(tool)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the server
            log.warning("tool_plugin_failed", entry_point=ep.name, error=str(exc))
