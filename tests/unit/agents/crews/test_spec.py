"""Crew specs: a valid one parses; each broken rule is refused naming its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agents.crews.spec import parse_crew_spec
from agents.errors import InvalidInputError

VALID: dict[str, Any] = {
    "name": "blog",
    "inputs": ["topic"],
    "agents": [
        {"id": "researcher", "role": "Researcher", "goal": "Find facts on {topic}",
         "backstory": "Careful."},
        {"id": "writer", "role": "Writer", "goal": "Write clearly", "backstory": "Terse."},
    ],
    "tasks": [
        {"id": "research", "description": "List facts about {topic}.",
         "expected_output": "Three facts.", "agent": "researcher"},
        {"id": "write", "description": "Write a paragraph.", "expected_output": "A paragraph.",
         "agent": "writer", "context": ["research"]},
    ],
}  # fmt: skip


def broken(**changes: Any) -> dict[str, Any]:
    """VALID with ``changes`` applied, keyed by dotted path (e.g. ``tasks.1.agent``)."""
    data = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return data


def refused(data: dict[str, Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        parse_crew_spec(data)
    return caught.value


def test_a_valid_spec_parses_with_defaults() -> None:
    spec = parse_crew_spec(VALID)
    assert spec.process == "sequential"
    assert spec.model is None
    assert spec.agents[0].allow_delegation is False
    assert spec.tasks[0].context is None  # CrewAI's default: all earlier outputs
    assert spec.tasks[1].context == ["research"]
    assert spec.problems() == []


@pytest.mark.parametrize(
    ("changes", "param", "words"),
    [
        ({"tasks__1__agent": "editor"}, "tasks.1.agent", "unknown agent 'editor'"),
        ({"tasks__1__context": ["nope"]}, "tasks.1.context.0", "unknown task 'nope'"),
        ({"tasks__0__context": ["write"]}, "tasks.0.context.0", "does not come before"),
        ({"tasks__0__context": ["research"]}, "tasks.0.context.0", "does not come before"),
        ({"agents__1__id": "researcher"}, "agents.1.id", "duplicate agent id"),
        ({"tasks__1__id": "research", "tasks__1__context": []}, "tasks.1.id", "duplicate task"),
        ({"process": "hierarchical"}, "manager_model", "required when process"),
        ({"inputs": []}, "agents.0.goal", "{topic} is not declared"),
        ({"tasks__1__description": "Use {tone}."}, "tasks.1.description", "{tone}"),
        ({"tasks__1__expected_output": "{fmt}"}, "tasks.1.expected_output", "{fmt}"),
        ({"inputs": ["topic", "topic"]}, "inputs.1", "duplicate input"),
        ({"agents": []}, "agents", "at least 1"),
        ({"process": "parallel"}, "process", "sequential"),
        ({"agents__0__max_iter": 0}, "agents.0.max_iter", "greater than or equal"),
        ({"tasks__0__colour": "red"}, "tasks.0.colour", "Extra inputs"),
    ],
)
def test_each_broken_rule_names_its_field(changes: dict[str, Any], param: str, words: str) -> None:
    err = refused(broken(**changes))
    assert err.param == param
    assert words in err.message
    assert err.code == "crew_spec_invalid"
    assert err.status_code == 400


def test_hierarchical_with_a_manager_model_is_valid() -> None:
    spec = parse_crew_spec(broken(process="hierarchical", manager_model="smollm2-135m-instruct"))
    assert spec.manager_model == "smollm2-135m-instruct"


def test_json_braces_that_are_not_placeholders_are_allowed() -> None:
    spec = parse_crew_spec(broken(tasks__1__expected_output='JSON like {"a": 1}'))
    assert spec.problems() == []


def test_problems_lists_every_problem_in_order() -> None:
    spec = parse_crew_spec(VALID)
    spec.tasks = [t.model_copy(update={"agent": "ghost"}) for t in spec.tasks]
    assert [path for path, _ in spec.problems()] == ["tasks.0.agent", "tasks.1.agent"]


def test_the_body_must_be_an_object() -> None:
    with pytest.raises(InvalidInputError, match="JSON object"):
        parse_crew_spec(["not", "a", "spec"])


def test_run_inputs_are_checked_against_the_declared_ones() -> None:
    spec = parse_crew_spec(VALID)
    assert spec.check_inputs({"topic": "tea"}) == {"topic": "tea"}
    assert spec.check_inputs({"topic": 3}) == {"topic": "3"}
    with pytest.raises(InvalidInputError) as missing:
        spec.check_inputs({})
    assert missing.value.param == "inputs.topic"
    with pytest.raises(InvalidInputError) as unknown:
        spec.check_inputs({"topic": "tea", "tone": "dry"})
    assert unknown.value.param == "inputs.tone"
    with pytest.raises(InvalidInputError) as nested:
        spec.check_inputs({"topic": {"a": 1}})
    assert nested.value.param == "inputs.topic"
