"""Errors of the tool node.

::

    NodeError
    └── ToolFailedError   code tool_failed: the tool raised something not a ChorusError
"""

from __future__ import annotations

from agents import error_codes
from agents.workflows.errors import NodeError


class ToolFailedError(NodeError):
    code = error_codes.TOOL_FAILED
