"""code: run user code in the sandbox (separate process, no network, limits: see
docs/security.md); its result must match the declared outputs."""

from __future__ import annotations

from agents import error_codes
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import NodeError
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference
from agents.workflows.nodes.code.dify import map_code
from agents.workflows.nodes.code.entities import CodeNodeData
from agents.workflows.nodes.common import mapping_refs, read_mappings
from agents.workflows.variables import VarType, matches, type_of


class CodeNode(BaseNode[CodeNodeData]):
    type = "code"
    data_model = CodeNodeData
    dify = DifyMapping(("code",), map_code)

    def output_types(self) -> dict[str, VarType]:
        return {name: out.type for name, out in self.data.outputs.items()}

    def references(self) -> list[Reference]:
        return mapping_refs(self.data.variables, "variables")

    async def run(self, ctx: NodeContext) -> NodeResult:
        inputs = read_mappings(ctx.pool, self.data.variables)
        runner = ctx.services.need("code")
        result = await runner.run_code(
            self.data.code_language, self.data.code, inputs, timeout_s=self.data.timeout_s
        )
        outputs = {}
        for name, declared in self.data.outputs.items():
            if name not in result:
                raise NodeError(
                    f"main() returned no {name!r}; it declares {sorted(self.data.outputs)}",
                    code=error_codes.CODE_RESULT_INVALID,
                    details={"output": name},
                )
            value = result[name]
            if value is not None and not matches(value, declared.type):
                raise NodeError(
                    f"output {name!r} must be {declared.type}, main() returned {type_of(value)}",
                    code=error_codes.CODE_RESULT_INVALID,
                    details={"output": name, "expected": declared.type},
                )
            outputs[name] = value
        if not self.data.outputs:
            outputs = dict(result)
        return NodeResult(outputs=outputs, inputs=inputs)
