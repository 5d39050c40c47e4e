"""The error-code catalogue: the documented tables match it, codes cross processes, and
no code is written anywhere but in the catalogue."""

import ast
import pickle
import re
from pathlib import Path

from agents import error_codes

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "errors.md"


def test_the_documented_table_is_the_catalogue() -> None:
    assert DOC.read_text() == error_codes.markdown(), (
        "docs/errors.md is stale: python -m agents.error_codes > docs/errors.md"
    )


def test_a_code_is_its_wire_string_and_pickles_as_one() -> None:
    code = error_codes.WORKFLOW_NOT_FOUND
    assert code == "workflow_not_found" and code.status == 404
    copied = pickle.loads(pickle.dumps(code))
    assert copied == "workflow_not_found" and type(copied) is str


def test_codes_are_unique_snake_case() -> None:
    for value, code in error_codes.CATALOGUE.items():
        assert value == str(code) and value.replace("_", "").isalpha() and value.islower()
        assert code.meaning.endswith(".") and code.status in (
            None,
            400,
            401,
            403,
            404,
            409,
            422,
            429,
            500,
            502,
            503,
            504,
        )


def _literal_codes(path: Path) -> list[str]:
    """Code strings written as literals where a code is meant (dict keys, ``.get`` keys,
    log event names and docstrings are not codes)."""
    tree = ast.parse(path.read_text())
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    found = []
    for node in ast.walk(tree):
        # A code that is not in the catalogue at all, passed or set where codes go.
        if isinstance(node, ast.keyword) and node.arg in ("code", "error_code"):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append(f"{path.relative_to(ROOT)}:{node.value.lineno} {node.value.value!r}")
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            names = [
                t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in node.targets
            ]
            if {"code", "error_code"} & set(names) and isinstance(node.value.value, str):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.value!r}")
        if not (isinstance(node, ast.Constant) and node.value in error_codes.CATALOGUE):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Dict) and any(k is node for k in parent.keys):
            continue
        if isinstance(parent, ast.Subscript | ast.Expr):
            continue
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute):
            func = parent.func
            first = bool(parent.args) and parent.args[0] is node
            if first and func.attr in ("get", "pop", "setdefault"):
                continue
            if first and isinstance(func.value, ast.Name) and func.value.id == "log":
                continue
        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    return found


def test_no_code_is_written_as_a_literal() -> None:
    found = [
        hit
        for package in ("agents", "cluster", "channels")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "agents" / "error_codes.py"
        for hit in _literal_codes(path)
    ]
    assert not found, "use the constants of agents/error_codes.py:\n" + "\n".join(found)


def test_the_protocol_document_names_only_catalogued_codes() -> None:
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    table = protocol.split("| `code` | when |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", table, re.M)
    named = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row)}
    assert named and named <= set(error_codes.CATALOGUE), named - set(error_codes.CATALOGUE)
