"""What runs user code for a workflow code node or the run_code tool: the sandbox,
wrapped by whoever composes the services (see ``cluster/workflows``)."""

from __future__ import annotations

from typing import Any, Protocol


class CodeRunnerProtocol(Protocol):
    """Runs user code in the sandbox; returns what ``main`` returned."""

    async def run_code(
        self,
        language: str,
        code: str,
        inputs: dict[str, Any],
        *,
        timeout_s: float | None = None,
    ) -> dict[str, Any]: ...
