"""Runs untrusted Python and JavaScript for workflow code nodes, isolated from the host."""

from agents.workflows.sandbox.entities import SandboxLimits, SandboxResult
from agents.workflows.sandbox.errors import (
    CodeExecutionError,
    CodeResultError,
    SandboxLimitError,
    SandboxUnavailableError,
)
from agents.workflows.sandbox.sandbox import CodeSandbox

__all__ = [
    "CodeExecutionError",
    "CodeResultError",
    "CodeSandbox",
    "SandboxLimitError",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
]
