"""What runs user code for a workflow code node or the run_code tool: the protocol,
and the runner over the code sandbox that the composition root gives them."""

from __future__ import annotations

from typing import Any, Protocol

from agents.errors import InvalidInputError
from agents.sandbox.entities import SandboxLimits
from agents.sandbox.host import Language
from agents.sandbox.sandbox import CodeSandbox

_LANGUAGES: dict[str, Language] = {"python3": "python3", "javascript": "javascript"}


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


class SandboxCodeRunner:
    """CodeRunnerProtocol over the code sandbox (separate processes, see docs/security.md)."""

    def __init__(self, sandbox: CodeSandbox, limits: SandboxLimits | None = None) -> None:
        self.sandbox = sandbox
        self.limits = limits

    async def run_code(
        self, language: str, code: str, inputs: dict[str, Any], *, timeout_s: float | None = None
    ) -> dict[str, Any]:
        if language not in _LANGUAGES:
            raise InvalidInputError(f"unsupported code language {language!r}", param="language")
        limits = self.limits
        if timeout_s is not None and limits is not None:
            limits = limits.model_copy(update={"wall_seconds": timeout_s})
        return dict((await self.sandbox.run(_LANGUAGES[language], code, inputs, limits)).result)
