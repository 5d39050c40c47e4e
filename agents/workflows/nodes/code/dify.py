"""code from Dify: language, code, bound variables and typed outputs."""

from __future__ import annotations

import ast
import sys

from agents.workflows.dify.mapping import Data, MappingContext, as_dict


def map_code(raw: Data, m: MappingContext) -> Data:
    language = str(raw.get("code_language") or "python3")
    code = str(raw.get("code") or "")
    outputs = as_dict(raw.get("outputs"))
    out: Data = {
        "code_language": language,
        "code": code,
        "variables": m.mappings(raw.get("variables"), "variables"),
        "outputs": {
            str(name): {"type": m.var_type(as_dict(spec).get("type"), f"outputs.{name}.type")}
            for name, spec in outputs.items()
        },
    }
    if language not in ("python3", "javascript"):
        m.note("needs_mapping", "code_language", f"{language} code does not run here")
    if raw.get("dependencies"):
        m.note("dropped", "dependencies", "declared dependencies are not installed here")
    if language == "python3":
        outside = _non_stdlib_imports(code)
        if outside:
            m.note("info", "code", f"imports {', '.join(outside)}: check the sandbox has them")
    return out


def _non_stdlib_imports(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(n for n in names if n not in sys.stdlib_module_names)
