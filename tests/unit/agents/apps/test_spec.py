import pytest

from agents.apps.spec import AppSpec, export_spec, parse_spec
from agents.errors import InvalidInputError


def test_yaml_round_trip() -> None:
    spec = parse_spec(
        {
            "name": "Helper",
            "system_prompt": "You help {{user}} with {{topic}}.",
            "variables": [{"name": "user", "required": True}, {"name": "topic", "default": "Ray"}],
            "suggested_questions": ["What is Ray?"],
            "follow_ups": {"enabled": True, "count": 5},
            "moderation": {"input_keywords": ["bad"], "output_keywords": ["secret"]},
        }
    )
    again = parse_spec(export_spec(spec, "yaml"), fmt="yaml")
    assert again == spec
    assert parse_spec(export_spec(spec, "json")) == spec
    assert spec.render_system_prompt({"user": "Ann"}) == "You help Ann with Ray."


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"name": "x", "suggested_questions": ["a", "b", "c", "d"]}, "suggested_questions"),
        ({"name": "x", "follow_ups": {"count": 6}}, "follow_ups.count"),
        ({"name": "x", "model": {"temperature": 5}}, "model.temperature"),
        ({"name": "x", "memroy": {}}, "memroy"),
        ({"name": ""}, "name"),
        ({"name": "x", "moderation": {"input_keywords": [" "]}}, "moderation.input_keywords"),
    ],
)
def test_invalid_specs_name_the_field(data: dict, path: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInputError) as info:
        parse_spec(data)
    assert info.value.param == path
    assert path in info.value.message


def test_undeclared_variable_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="undeclared variables: who"):
        parse_spec({"name": "x", "system_prompt": "Hi {{who}}"})


def test_required_variable_must_be_given() -> None:
    spec = AppSpec(
        name="x", system_prompt="Hi {{who}}", variables=[{"name": "who", "required": True}]
    )
    with pytest.raises(InvalidInputError) as info:
        spec.render_system_prompt({})
    assert info.value.param == "inputs.who"


def test_reply_language_is_added_to_prompt() -> None:
    assert "answer in 中文" in AppSpec(name="x", reply_language="中文").render_system_prompt()


def test_bad_yaml_text() -> None:
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        parse_spec("name: [unclosed", fmt="yaml")
