"""Errors of the nodes that ask a chat model (llm, question-classifier).

::

    NodeError
    └── LlmOutputInvalidError   code llm_output_invalid: the answer is not what was asked
"""

from __future__ import annotations

from agents import error_codes
from agents.workflows.errors import NodeError


class LlmOutputInvalidError(NodeError):
    code = error_codes.LLM_OUTPUT_INVALID
