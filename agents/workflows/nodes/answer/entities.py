from __future__ import annotations

from pydantic import Field

from agents.workflows.nodes.base import BaseNodeData


class AnswerNodeData(BaseNodeData):
    answer: str = Field(description="The reply, with {{#node.field#}} references.")
