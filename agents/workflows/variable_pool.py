"""The variable pool: every value nodes have produced during one run."""

from __future__ import annotations

import copy
from typing import Any

from agents.workflows.errors import VariableNotFoundError
from agents.workflows.variables import TEMPLATE_REF, to_text

_MISSING = object()


class VariablePool:
    def __init__(
        self,
        system: dict[str, Any] | None = None,
        environment: dict[str, Any] | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> None:
        self._values: dict[str, dict[str, Any]] = {
            "sys": dict(system or {}),
            "env": dict(environment or {}),
            "conversation": dict(conversation or {}),
        }

    def set_outputs(self, node_id: str, outputs: dict[str, Any]) -> None:
        self._values[node_id] = dict(outputs)

    def outputs(self, node_id: str) -> dict[str, Any] | None:
        return self._values.get(node_id)

    def has(self, node_id: str) -> bool:
        return node_id in self._values

    def child(self) -> VariablePool:
        """A pool for one iteration step: sees everything here, writes only to itself."""
        pool = VariablePool()
        pool._values = {k: dict(v) for k, v in self._values.items()}
        return pool

    def get(self, selector: list[str], default: Any = _MISSING) -> Any:
        """The value at ``selector``; raises :class:`VariableNotFoundError` when absent
        and no default is given."""
        if len(selector) < 2:
            raise VariableNotFoundError(selector)
        node = self._values.get(selector[0])
        value: Any = _MISSING if node is None else node.get(selector[1], _MISSING)
        for step in selector[2:]:
            if value is _MISSING:
                break
            if isinstance(value, dict):
                value = value.get(step, _MISSING)
            elif isinstance(value, list) and step.lstrip("-").isdigit():
                index = int(step)
                value = value[index] if -len(value) <= index < len(value) else _MISSING
            else:
                value = _MISSING
        if value is _MISSING:
            if default is _MISSING:
                raise VariableNotFoundError(selector)
            return default
        return copy.deepcopy(value) if isinstance(value, dict | list) else value

    def render(self, template: str) -> str:
        """Replace each ``{{#node.name#}}`` by its value as text (missing: empty)."""

        def value(match: Any) -> str:
            return to_text(self.get(match.group(1).split("."), None))

        return TEMPLATE_REF.sub(value, template or "")
