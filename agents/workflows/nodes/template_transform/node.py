"""template-transform: render a Jinja2 template in a sandboxed environment (no access
to Python internals: attribute lookups on unsafe names and calls to unsafe callables
are refused)."""

from __future__ import annotations

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agents import error_codes
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import NodeError
from agents.workflows.graph import NodeSpec
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference
from agents.workflows.nodes.common import mapping_refs, read_mappings
from agents.workflows.nodes.template_transform.dify import map_template_transform
from agents.workflows.nodes.template_transform.entities import TemplateTransformNodeData
from agents.workflows.variables import VarType

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class TemplateTransformNode(BaseNode[TemplateTransformNodeData]):
    type = "template-transform"
    data_model = TemplateTransformNodeData
    dify = DifyMapping(("template-transform",), map_template_transform)

    def __init__(self, spec: NodeSpec, data: TemplateTransformNodeData) -> None:
        super().__init__(spec, data)
        self._template = _ENV.from_string(data.template)  # parsed by the data model already

    def output_types(self) -> dict[str, VarType]:
        return {"output": "string"}

    def references(self) -> list[Reference]:
        return mapping_refs(self.data.variables, "variables")

    async def run(self, ctx: NodeContext) -> NodeResult:
        values = read_mappings(ctx.pool, self.data.variables)
        try:
            text = self._template.render(**values)
        except TemplateError as exc:
            raise NodeError(f"the template failed: {exc}", code=error_codes.TEMPLATE_ERROR) from exc
        if len(text) > self.data.max_output_chars:
            raise NodeError(
                f"the output is {len(text)} characters; the limit is {self.data.max_output_chars}",
                code=error_codes.TEMPLATE_OUTPUT_TOO_LONG,
            )
        return NodeResult(outputs={"output": text}, inputs=values)
