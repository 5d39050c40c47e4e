"""What every node type has: a key in the registry (``type``, ``version``), common
settings (timeout, retry, error strategy), a data model, declared outputs, the variables
it reads (for validation), ``run``, and optionally how it imports from Dify."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.graph import SOURCE_HANDLE, NodeSpec
from agents.workflows.variables import VarType, template_refs


class RetrySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=10, description="Tries in all (1 = no retry).")
    interval_s: float = Field(default=0.0, ge=0, le=60, description="Pause between tries.")


class BaseNodeData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: float | None = Field(
        default=None, gt=0, le=3600, description="Cut the node after this many seconds."
    )
    retry: RetrySpec = Field(default_factory=RetrySpec, description="Retry on failure.")
    error_strategy: Literal["fail", "default_value", "fail_branch"] = Field(
        default="fail",
        description="On failure: fail the run, continue with default_value as outputs, "
        "or follow the node's 'fail-branch' edges (outputs error_message, error_type).",
    )
    default_value: dict[str, Any] = Field(
        default_factory=dict, description="Outputs used with error_strategy default_value."
    )


@dataclass
class Reference:
    """A variable a node reads: where (``field``, for errors) and what it accepts."""

    selector: list[str]
    field: str
    accepts: set[str] | None = None


@dataclass
class NodeResult:
    outputs: dict[str, Any]
    handle: str = SOURCE_HANDLE
    inputs: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0


D = TypeVar("D", bound=BaseNodeData)


#: The version of a node type unless its class says otherwise; a workflow's nodes name no
#: version, so they run this one.
DEFAULT_VERSION = "1"


class BaseNode(ABC, Generic[D]):
    type: ClassVar[str]
    version: ClassVar[str] = DEFAULT_VERSION
    data_model: ClassVar[builtins.type[BaseNodeData]]
    #: Nodes of this type end a branch: end, answer.
    terminal: ClassVar[bool] = False
    #: The Dify node types this type imports, with the mapper of their data (in the
    #: node's folder, ``dify.py``); None: Dify has no such node.
    dify: ClassVar[DifyMapping | None] = None

    def __init__(self, spec: NodeSpec, data: D) -> None:
        self.spec = spec
        self.id = spec.id
        self.data = data

    @property
    def title(self) -> str:
        return self.spec.title or self.id

    def output_types(self) -> dict[str, VarType]:
        """The outputs downstream nodes may read, with their types."""
        return {}

    def references(self) -> list[Reference]:
        """The variables this node reads (checked before a run)."""
        return []

    def handles(self) -> list[str]:
        """The exits edges may leave by (``fail-branch`` is added by the engine)."""
        return [SOURCE_HANDLE]

    @abstractmethod
    async def run(self, ctx: NodeContext) -> NodeResult:
        """Do the node's work; raise a ChorusError for an expected failure."""


def refs_in(text: str, field_name: str) -> list[Reference]:
    return [Reference(selector=s, field=field_name) for s in template_refs(text)]
