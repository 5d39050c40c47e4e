"""Runs untrusted Python and JavaScript, isolated from the host: for workflow code nodes
and the run_code tool (both reach it through :class:`CodeRunnerProtocol`)."""

from agents.sandbox.code_runner import CodeRunnerProtocol
from agents.sandbox.entities import SandboxLimits, SandboxResult
from agents.sandbox.errors import (
    CodeExecutionError,
    CodeResultError,
    SandboxLimitError,
    SandboxUnavailableError,
)
from agents.sandbox.sandbox import CodeSandbox

__all__ = [
    "CodeExecutionError",
    "CodeRunnerProtocol",
    "CodeResultError",
    "CodeSandbox",
    "SandboxLimitError",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
]
