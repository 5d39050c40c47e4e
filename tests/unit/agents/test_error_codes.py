"""The error-code catalogue: the documented table equals it, and codes cross processes."""

import pickle
from pathlib import Path

from agents import error_codes

DOC = Path(__file__).resolve().parents[3] / "docs" / "errors.md"


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
            404,
            422,
            429,
            500,
            502,
            503,
            504,
        )
