from __future__ import annotations

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import Field, field_validator

from agents.workflows.nodes.base import BaseNodeData
from agents.workflows.nodes.common import VariableMapping


class TemplateTransformNodeData(BaseNodeData):
    variables: list[VariableMapping] = Field(
        default_factory=list, description="Names the template uses, bound to upstream values."
    )
    template: str = Field(description="A Jinja2 template (sandboxed), e.g. 'Hi {{ name }}'.")
    max_output_chars: int = Field(default=400_000, ge=1, description="Longest output accepted.")

    @field_validator("template")
    @classmethod
    def _parses(cls, template: str) -> str:
        try:
            ImmutableSandboxedEnvironment().parse(template)
        except TemplateSyntaxError as exc:
            raise ValueError(
                f"the template does not parse (line {exc.lineno}): {exc.message}"
            ) from None
        return template
