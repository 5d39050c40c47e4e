"""Our tools as CrewAI tools: :class:`CrewToolAdapter` wraps an ``agents.tools.BaseTool``.

CrewAI calls tools synchronously from the thread that runs the crew; our tools are
async and belong to the server's event loop (their HTTP clients live there). The
adapter hands each call to that loop with ``run_coroutine_threadsafe`` and waits
for it (our tool's own timeout applies, plus a little). Called where no loop is
given (a test, a script), it runs the call on a fresh loop instead.

The arguments schema CrewAI shows the model is built from our JSON Schema with
CrewAI's own converter; our tool checks the arguments against the original schema
before it runs, so that check stays the one that counts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from typing import Any

from crewai.tools import BaseTool as CrewAIBaseTool
from crewai.utilities.pydantic_schema_utils import create_model_from_schema
from pydantic import BaseModel, ConfigDict, JsonValue, PrivateAttr

from agents.tools.base import BaseTool
from agents.tools.base import ToolError as ChorusToolError

#: Extra seconds a thread waits for the loop beyond the tool's own timeout.
GRACE_S = 5.0


def args_model(tool: BaseTool) -> type[BaseModel]:
    """A pydantic model of ``tool.parameters`` (what CrewAI shows the model)."""
    schema = dict(tool.parameters or {"type": "object", "properties": {}})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    model_name = "".join(p.capitalize() for p in tool.name.replace("-", "_").split("_")) + "Args"
    return create_model_from_schema(
        schema,
        model_name=model_name,
        enrich_descriptions=True,
        __config__=ConfigDict(extra="ignore"),
    )


def as_text(result: object) -> str:
    """A tool result (any value a tool returns) as the text an agent reads."""
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)


class CrewToolAdapter(CrewAIBaseTool):
    """A CrewAI tool that calls one of our tools (see the module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _tool: BaseTool = PrivateAttr()
    _loop: asyncio.AbstractEventLoop | None = PrivateAttr(default=None)
    _required: frozenset[str] = PrivateAttr(default=frozenset())

    @classmethod
    def wrap(cls, tool: BaseTool, loop: asyncio.AbstractEventLoop | None = None) -> CrewToolAdapter:
        """The adapter for ``tool``; calls go to ``loop`` when given (and running)."""
        adapter = cls(name=tool.name, description=tool.description, args_schema=args_model(tool))
        adapter._tool = tool
        adapter._loop = loop
        adapter._required = frozenset((tool.parameters or {}).get("required", []))
        return adapter

    @property
    def tool(self) -> BaseTool:
        return self._tool

    def _arguments(self, kwargs: dict[str, JsonValue]) -> dict[str, JsonValue]:
        # CrewAI fills optional arguments the model left out with None; our schema
        # says "absent", so drop them again.
        return {k: v for k, v in kwargs.items() if v is not None or k in self._required}

    def _run(self, *args: object, **kwargs: JsonValue) -> str:
        if args:
            raise ChorusToolError(f"{self.name} takes keyword arguments only")
        coro = self._tool.call(self._arguments(kwargs))
        loop = self._loop
        wait_s = self._tool.timeout_s + GRACE_S
        try:
            running_here = asyncio.get_running_loop()
        except RuntimeError:
            running_here = None
        if loop is not None and loop.is_running() and running_here is not loop:
            future = asyncio.run_coroutine_threadsafe(coro, loop)
            try:
                return as_text(future.result(timeout=wait_s))
            except concurrent.futures.TimeoutError:
                future.cancel()
                raise ChorusToolError(f"{self.name} did not answer within {wait_s:g} s") from None
        if running_here is None:
            return as_text(asyncio.run(coro))
        # Called on a running loop that we must not block: use a helper thread's loop.
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = asyncio.run(coro)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
                box["error"] = exc

        helper = threading.Thread(target=work, name=f"tool-{self.name}", daemon=True)
        helper.start()
        helper.join(wait_s)
        if "error" in box:
            raise box["error"]
        if "result" not in box:
            raise ChorusToolError(f"{self.name} did not answer within {wait_s:g} s")
        return as_text(box["result"])

    async def _arun(self, *args: object, **kwargs: JsonValue) -> str:
        if args:
            raise ChorusToolError(f"{self.name} takes keyword arguments only")
        coro = self._tool.call(self._arguments(kwargs))
        loop = self._loop
        if loop is not None and loop.is_running() and asyncio.get_running_loop() is not loop:
            return as_text(await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop)))
        return as_text(await coro)
