"""Dify DSL import (real exports under ../shared/fixtures/dify_dsl, plus small
synthetic DSLs for what they lack) and our own export / load round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.errors import InvalidInputError
from agents.workflows.dify.importer import import_dify
from agents.workflows.export import export_spec, load_spec
from agents.workflows.graph import Edge, NodeSpec, WorkflowSpec
from agents.workflows.validation import compile_workflow

FIXTURES = Path(__file__).resolve().parents[5].parent / "shared/fixtures/dify_dsl"
FIXTURE_NAMES = [
    "svcvit__chart_demo.yml",
    "svcvit__full_book_translation.yml",
    "svcvit__intent_reply_qc_kr_aggregator.yml",
    "svcvit__json_repair.yml",
    "svcvit__python_coding_prompt.yml",
    "svcvit__seo_slug_generator.yml",
    "svcvit__spring_couplet_generator.yml",
    "svcvit__text_to_card_iteration.yml",
    "svcvit__thinking_assistant_kr_chatflow.yml",
    "svcvit__translation_workflow.yml",
]
#: What keeps a fixture from being ready: (severity, node_id, field) of each item.
BLOCKERS = {
    "svcvit__intent_reply_qc_kr_aggregator.yml": {
        ("needs_mapping", "1721623802451", "data.dataset_ids"),
    },
    "svcvit__thinking_assistant_kr_chatflow.yml": {
        ("needs_mapping", "1723188386218", "data.dataset_ids"),
    },
    "svcvit__text_to_card_iteration.yml": {
        ("secret_removed", "1721710297246", "data.authorization.api_key"),
    },
}


def fixture(name: str) -> str:
    if not FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is absent (CI always has it)")
    return (FIXTURES / name).read_text(encoding="utf-8")


def node(node_id: str, kind: str, parent: str | None = None, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": node_id, "type": "custom", "data": {"type": kind, **data}}
    if parent:
        raw["parentId"] = parent
    return raw


def edge(source: str, target: str, handle: str = "source") -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target, "sourceHandle": handle}


def dsl(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    *,
    mode: str = "workflow",
    version: Any = "0.1.5",
    **workflow: Any,
) -> str:
    doc = {
        "app": {"mode": mode, "name": "synthetic", "description": "made for a test"},
        "kind": "app",
        "version": version,
        "workflow": {"graph": {"nodes": nodes, "edges": edges}, **workflow},
    }
    return yaml.safe_dump(doc, allow_unicode=True)


START = node("start", "start", variables=[{"variable": "q", "type": "text-input"}])


def end(*selectors: list[str]) -> dict[str, Any]:
    outputs = [{"variable": f"out{i}", "value_selector": s} for i, s in enumerate(selectors)]
    return node("end", "end", outputs=outputs)


def items(result: Any, severity: str) -> list[tuple[str | None, str | None]]:
    return [(i.node_id, i.field) for i in result.report.items if i.severity == severity]


# --- the real exports ---------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_imports_and_compiles(name: str) -> None:
    text = fixture(name)
    raw_nodes = yaml.safe_load(text)["workflow"]["graph"]["nodes"]
    notes = [n for n in raw_nodes if n["type"] == "custom-note" or not n["data"].get("type")]

    result = import_dify(text)

    assert result.report.imported_nodes == len(raw_nodes) - len(notes)
    assert len(result.spec.nodes) == len(raw_nodes) - len(notes)
    assert result.validation_errors == []
    compile_workflow(result.spec)
    blockers = {
        (i.severity, i.node_id, i.field)
        for i in result.report.items
        if i.severity in ("needs_mapping", "secret_removed")
    }
    assert blockers == BLOCKERS.get(name, set())
    assert result.report.ready is (name not in BLOCKERS)
    assert len(items(result, "info")) >= len(notes)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_round_trips_through_our_format(name: str) -> None:
    spec = import_dify(fixture(name)).spec

    text = export_spec(spec)

    assert yaml.safe_load(text)["kind"] == "chorus-workflow"
    assert load_spec(text) == spec


def test_models_become_the_default_and_are_listed() -> None:
    result = import_dify(fixture("svcvit__translation_workflow.yml"))

    llms = [n for n in result.spec.nodes if n.type == "llm"]
    assert len(llms) == 4 and all(n.data["model"]["name"] is None for n in llms)
    listed = [i for i in result.report.items if i.field == "data.model.name"]
    assert len(listed) == 4 and "deepseek/deepseek-chat" in listed[0].message
    assert llms[0].data["model"]["temperature"] == 1


def test_iteration_children_and_notes() -> None:
    result = import_dify(fixture("svcvit__full_book_translation.yml"))

    by_id = {n.id: n for n in result.spec.nodes}
    iteration = by_id["1717916955547"]
    assert iteration.data["start_node_id"] == "1717916955547start0"
    assert iteration.data["output_type"] == "array[string]"
    inside = {n.id for n in result.spec.nodes if n.parent_id == iteration.id}
    assert inside == {
        "1717916955547start0",
        "1717916961837",
        "1717916977413",
        "1717916991709",
        "1717916984996",
    }
    assert "1718990593686" not in by_id  # a canvas note
    assert ("1718990593686", None) in items(result, "info")
    assert ("1717916961837", "data.vision") in items(result, "dropped")


def test_if_else_cases_and_branches() -> None:
    result = import_dify(fixture("svcvit__translation_workflow.yml"))

    if_else = next(n for n in result.spec.nodes if n.type == "if-else")
    assert if_else.data["cases"] == [
        {
            "case_id": "true",
            "logical_operator": "and",
            "conditions": [
                {
                    "variable_selector": ["1721117927142", "country"],
                    "comparison_operator": "empty",
                    "value": None,
                }
            ],
        }
    ]
    handles = {e.source_handle for e in result.spec.edges if e.source == if_else.id}
    assert handles == {"true", "false"}


def test_http_request_with_api_key_header() -> None:
    text = fixture("svcvit__text_to_card_iteration.yml")
    raw = next(
        n for n in yaml.safe_load(text)["workflow"]["graph"]["nodes"] if n["id"] == "1721710297246"
    )
    api_key = raw["data"]["authorization"]["config"]["api_key"]
    result = import_dify(text)

    http = next(n for n in result.spec.nodes if n.type == "http-request")
    assert http.data["method"] == "POST"
    assert http.data["authorization"] == {
        "type": "api-key-header",
        "api_key": "",
        "name": "X-API-Key",
    }
    assert http.data["headers"] == [{"key": "Content-Type", "value": "application/json"}]
    assert http.data["body"] == {"type": "json", "data": "{{#1721731659123.output#}}"}
    assert http.data["fail_on_error_status"] is False
    assert len(api_key) > 20
    assert api_key not in result.spec.model_dump_json()
    assert api_key not in export_spec(result.spec)


def test_chatflow_memory_and_old_system_variables() -> None:
    coding = import_dify(fixture("svcvit__python_coding_prompt.yml"))
    llm = next(n for n in coding.spec.nodes if n.type == "llm")
    assert coding.spec.mode == "chat"
    assert llm.data["memory"] == {"window": 10}
    assert llm.data["prompt_template"][-1] == {"role": "user", "text": "{{#sys.query#}}"}

    thinking = import_dify(fixture("svcvit__thinking_assistant_kr_chatflow.yml"))
    retrieval = next(n for n in thinking.spec.nodes if n.type == "knowledge-retrieval")
    assert retrieval.data["query_variable_selector"] == ["sys", "query"]
    assert retrieval.data["dataset_ids"] == ["94624cfc-4bb2-417e-adfc-7d5428e093ac"]


def test_classifier_aggregator_and_memory_in_a_workflow() -> None:
    result = import_dify(fixture("svcvit__intent_reply_qc_kr_aggregator.yml"))

    by_id = {n.id: n for n in result.spec.nodes}
    classifier = by_id["1718246909580"].data
    assert [c["id"] for c in classifier["classes"]] == ["1715846546749", "1715846565625"]
    assert classifier["instruction"].startswith("分类依据")
    assert by_id["1718852940536"].data["variables"] == [
        ["1718246916748", "text"],
        ["1718246959048", "text"],
    ]
    assert "memory" not in by_id["1718246807593"].data
    assert ("1718246807593", "data.memory") in items(result, "dropped")


def test_select_inputs_keep_their_options() -> None:
    result = import_dify(fixture("svcvit__spring_couplet_generator.yml"))

    start = next(n for n in result.spec.nodes if n.type == "start")
    count = start.data["variables"][1]
    assert count["type"] == "string" and count["options"] == ["五言", "七言", "九言", "十一言"]


# --- synthetic DSLs ------------------------------------------------------------------

SECRET_DSL = dsl(
    [
        START,
        node(
            "http",
            "http-request",
            method="get",
            url="{{#env.BASE_URL#}}/search",
            headers="X-Api-Key:literal-key-123\nX-Trace:{{#start.q#}}\n"
            "Authorization:Bearer {{#env.API_TOKEN#}}",
            params="token:param-secret-456\npage:1",
            authorization={"type": "api-key", "config": {"type": "bearer", "api_key": "sk-abc"}},
            body={"type": "none", "data": []},
        ),
        node(
            "http2",
            "http-request",
            method="post",
            url="https://example.com",
            headers="",
            params="",
            authorization={
                "type": "api-key",
                "config": {"type": "custom", "header": "X-Key", "api_key": "{{#env.API_TOKEN#}}"},
            },
        ),
        end(["http", "body"], ["http2", "status_code"]),
    ],
    [edge("start", "http"), edge("http", "http2"), edge("http2", "end")],
    environment_variables=[
        {"name": "API_TOKEN", "value_type": "secret", "value": "env-secret-789"},
        {"name": "BASE_URL", "value_type": "string", "value": "https://api.example.com"},
        {"name": "LIMIT", "value_type": "number", "value": 5},
    ],
)
SECRETS = ["literal-key-123", "param-secret-456", "sk-abc", "env-secret-789"]


def test_secrets_are_removed_and_reported() -> None:
    result = import_dify(SECRET_DSL)

    assert result.spec.environment == {
        "API_TOKEN": "",
        "BASE_URL": "https://api.example.com",
        "LIMIT": 5,
    }
    http = next(n for n in result.spec.nodes if n.id == "http").data
    assert http["authorization"] == {"type": "bearer", "api_key": ""}
    assert http["headers"] == [
        {"key": "X-Api-Key", "value": ""},
        {"key": "X-Trace", "value": "{{#start.q#}}"},
        {"key": "Authorization", "value": "Bearer {{#env.API_TOKEN#}}"},
    ]
    assert http["params"] == [{"key": "token", "value": ""}, {"key": "page", "value": "1"}]
    http2 = next(n for n in result.spec.nodes if n.id == "http2").data
    assert http2["authorization"] == {
        "type": "api-key-header",
        "api_key": "{{#env.API_TOKEN#}}",
        "name": "X-Key",
    }
    assert sorted(items(result, "secret_removed"), key=str) == sorted(
        [
            (None, "environment.API_TOKEN"),
            ("http", "data.authorization.api_key"),
            ("http", "data.headers.0.value"),
            ("http", "data.params.0.value"),
        ],
        key=str,
    )
    assert result.validation_errors == []
    assert result.report.ready is False
    dumped = result.spec.model_dump_json() + export_spec(result.spec)
    assert not [s for s in SECRETS if s in dumped]


def test_export_blanks_literal_secrets_but_keeps_references() -> None:
    spec = WorkflowSpec(
        nodes=[
            NodeSpec(id="start", type="start"),
            NodeSpec(
                id="http",
                type="http-request",
                data={
                    "url": "https://example.com",
                    "headers": [
                        {"key": "Authorization", "value": "Bearer sk-live-1"},
                        {"key": "X-Token", "value": "{{#env.TOKEN#}}"},
                    ],
                    "authorization": {"type": "api-key-query", "api_key": "q-secret-2"},
                },
            ),
            NodeSpec(
                id="tool",
                type="tool",
                data={
                    "tool_name": "search",
                    "tool_parameters": {"api_key": {"type": "constant", "value": "t-secret-3"}},
                },
            ),
            NodeSpec(id="end", type="end"),
        ],
        edges=[
            Edge(source="start", target="http"),
            Edge(source="http", target="tool"),
            Edge(source="tool", target="end"),
        ],
        environment={"TOKEN": ""},
    )

    text = export_spec(spec)

    assert not [s for s in ("sk-live-1", "q-secret-2", "t-secret-3") if s in text]
    loaded = load_spec(text)
    http = next(n for n in loaded.nodes if n.id == "http").data
    assert http["headers"][1] == {"key": "X-Token", "value": "{{#env.TOKEN#}}"}
    assert http["authorization"]["api_key"] == ""
    assert spec.nodes[1].data["authorization"]["api_key"] == "q-secret-2"  # spec untouched


def test_old_style_if_else_is_one_true_case() -> None:
    if_else = node(
        "check",
        "if-else",
        logical_operator="or",
        conditions=[
            {"variable_selector": ["start", "q"], "comparison_operator": "is null", "value": ""},
            {
                "variable_selector": ["start", "q"],
                "comparison_operator": "is",
                "value_type": "value_selector",
                "value_selector": ["start", "q"],
            },
        ],
    )
    text = dsl(
        [START, if_else, end(["start", "q"]), node("end2", "end", outputs=[])],
        [edge("start", "check"), edge("check", "end", "true"), edge("check", "end2", "false")],
        version="0.1.0",
    )

    result = import_dify(text)

    cases = next(n for n in result.spec.nodes if n.id == "check").data["cases"]
    assert cases == [
        {
            "case_id": "true",
            "logical_operator": "or",
            "conditions": [
                {"variable_selector": ["start", "q"], "comparison_operator": "null", "value": None},
                {
                    "variable_selector": ["start", "q"],
                    "comparison_operator": "is",
                    "value": "{{#start.q#}}",
                },
            ],
        }
    ]
    assert result.validation_errors == [] and result.report.ready


def test_unknown_node_types_are_dropped_with_their_edges() -> None:
    text = dsl(
        [
            START,
            node("extract", "document-extractor", variable_selector=["sys", "files"]),
            node("loop", "loop"),
            node("inner", "code", parent="loop", code="def main(): return {}", outputs={}),
            end(["start", "q"]),
        ],
        [edge("start", "extract"), edge("extract", "end")],
    )

    result = import_dify(text)

    assert {n.id for n in result.spec.nodes} == {"start", "end"}
    assert result.spec.edges == []
    dropped = {i.node_id: i.message for i in result.report.items if i.severity == "dropped"}
    assert "'document-extractor'" in dropped["extract"] and "2 edge(s)" in dropped["extract"]
    assert "'loop'" in dropped["loop"] and "inside loop" in dropped["inner"]
    assert any("not connected" in e["message"] for e in result.validation_errors)
    assert result.report.ready is False


def test_notes_file_inputs_and_system_variables() -> None:
    start = node(
        "start",
        "start",
        variables=[
            {"variable": "doc", "type": "file", "required": True},
            {"variable": "docs", "type": "file-list"},
            {"variable": "n", "type": "number"},
        ],
    )
    answer = node("answer", "answer", answer="{{#sys.workflow_run_id#}} {{#sys.app_id#}}")
    note = {"id": "note", "type": "custom-note", "data": {"type": "", "text": "hello"}}
    text = dsl([start, answer, note], [edge("start", "answer")], mode="advanced-chat")

    result = import_dify(text)

    assert result.spec.mode == "chat" and result.report.mode == "advanced-chat"
    variables = result.spec.nodes[0].data["variables"]
    assert [(v["variable"], v["type"]) for v in variables] == [
        ("doc", "object"),
        ("docs", "array[object]"),
        ("n", "number"),
    ]
    assert ("start", "data.variables.0") in items(result, "needs_mapping")
    assert ("start", "data.variables.1") in items(result, "needs_mapping")
    assert ("note", None) in items(result, "info")
    assert result.spec.nodes[1].data["answer"] == "{{#sys.run_id#}} {{#sys.app_id#}}"
    assert ("answer", "data.answer") in items(result, "needs_mapping")  # sys.app_id
    assert [e["field"] for e in result.validation_errors] == ["data.answer"]


def test_marketplace_tool_needs_a_binding() -> None:
    tool = node(
        "search",
        "tool",
        provider_id="langgenius/tavily/tavily",
        provider_type="builtin",
        tool_name="tavily_search",
        plugin_unique_identifier="langgenius/tavily:0.0.5@abc",
        tool_configurations={"max_results": 5, "depth": {"type": "constant", "value": "basic"}},
        tool_parameters={
            "query": {"type": "mixed", "value": "{{#start.q#}}"},
            "topic": {"type": "variable", "value": ["start", "q"]},
            "unset": None,
        },
    )
    text = dsl(
        [START, tool, end(["search", "text"])],
        [edge("start", "search"), edge("search", "end")],
        version="0.3.0",
    )

    result = import_dify(text)

    data = next(n for n in result.spec.nodes if n.id == "search").data
    assert data == {
        "tool_name": "tavily_search",
        "tool_parameters": {
            "max_results": {"type": "constant", "value": 5},
            "depth": {"type": "constant", "value": "basic"},
            "query": {"type": "mixed", "value": "{{#start.q#}}"},
            "topic": {"type": "variable", "value": ["start", "q"]},
        },
    }
    blocking = [i for i in result.report.items if i.severity == "needs_mapping"]
    assert [(i.node_id, i.field) for i in blocking] == [("search", "data.tool_name")]
    assert "marketplace plugin langgenius/tavily" in blocking[0].message
    assert result.validation_errors == [] and result.report.ready is False


def test_newer_spellings_map_onto_our_settings() -> None:
    llm = node(
        "llm",
        "llm",
        model={"provider": "openai", "name": "gpt-4o", "completion_params": {"max_tokens": 512}},
        prompt_template={"text": "Summarise {{#start.q#}}"},
        context={"enabled": False, "variable_selector": []},
        structured_output_enabled=True,
        structured_output={"schema": {"type": "object", "properties": {}}},
        error_strategy="default-value",
        default_value=[{"key": "text", "type": "string", "value": "n/a"}],
        retry_config={"retry_enabled": True, "max_retries": 2, "retry_interval": 500},
    )
    retrieval = node(
        "kb",
        "knowledge-retrieval",
        query_variable_selector=["start", "q"],
        dataset_ids=[],
        retrieval_mode="multiple",
        multiple_retrieval_config={
            "top_k": 6,
            "score_threshold": 0.4,
            "reranking_mode": "weighted_score",
            "weights": {"vector_setting": {"vector_weight": 0.7}},
        },
    )
    aggregator = node(
        "agg",
        "variable-aggregator",
        output_type="string",
        variables=[],
        advanced_settings={
            "group_enabled": True,
            "groups": [
                {"group_name": "g", "output_type": "string", "variables": [["llm", "text"]]}
            ],
        },
    )
    http = node(
        "http",
        "http-request",
        method="post",
        url="https://example.com",
        headers="",
        params="",
        authorization={"type": "no-auth", "config": None},
        body={"type": "form-data", "data": [{"key": "a", "type": "text", "value": "1"}]},
        timeout={"connect": 5, "read": 20, "write": 5},
        error_strategy="fail-branch",
    )
    text = dsl(
        [START, retrieval, llm, aggregator, http, end(["agg", "g"]), node("err", "end")],
        [
            edge("start", "kb"),
            edge("kb", "llm"),
            edge("llm", "agg"),
            edge("agg", "http"),
            edge("http", "end"),
            edge("http", "err", "fail-branch"),
        ],
        version="0.6.0",
    )

    result = import_dify(text)

    data = {n.id: n.data for n in result.spec.nodes}
    assert data["llm"]["model"] == {"name": None, "max_tokens": 512}
    assert data["llm"]["prompt_template"] == [{"role": "user", "text": "Summarise {{#start.q#}}"}]
    assert data["llm"]["structured_output"] == {"schema": {"type": "object", "properties": {}}}
    assert data["llm"]["error_strategy"] == "default_value"
    assert data["llm"]["default_value"] == {"text": "n/a"}
    assert data["llm"]["retry"] == {"max_attempts": 3, "interval_s": 0.5}
    assert data["kb"] == {
        "query_variable_selector": ["start", "q"],
        "dataset_ids": [],
        "top_k": 6,
        "score_threshold": 0.4,
        "mode": "hybrid",
        "alpha": 0.7,
    }
    assert data["agg"] == {
        "groups": [{"group_name": "g", "output_type": "string", "variables": [["llm", "text"]]}]
    }
    assert data["http"]["body"] == {"type": "form-data", "data": [{"key": "a", "value": "1"}]}
    assert data["http"]["timeout_s"] == 30
    assert data["http"]["error_strategy"] == "fail_branch"
    assert data["http"]["fail_on_error_status"] is True
    assert result.validation_errors == [] and result.report.ready


def test_older_iterations_get_an_iteration_start() -> None:
    split = node(
        "split",
        "code",
        code="def main(): return {'parts': ['a']}",
        outputs={"parts": {"type": "array[string]", "children": None}},
    )
    iteration = node(
        "it",
        "iteration",
        iterator_selector=["split", "parts"],
        output_selector=["inner", "output"],
        output_type="array[string]",
        start_node_id="inner",
    )
    inner = node(
        "inner",
        "template-transform",
        parent="it",
        isInIteration=True,
        template="{{ x }}!",
        variables=[{"variable": "x", "value_selector": ["it", "item"]}],
    )
    text = dsl(
        [START, split, iteration, inner, end(["it", "output"])],
        [edge("start", "split"), edge("split", "it"), edge("it", "end")],
        version="0.1.0",
    )

    result = import_dify(text)

    by_id = {n.id: n for n in result.spec.nodes}
    assert by_id["it"].data["start_node_id"] == "itstart"
    assert by_id["itstart"].type == "iteration-start" and by_id["itstart"].parent_id == "it"
    assert Edge(id="itstart-inner", source="itstart", target="inner") in result.spec.edges
    assert result.report.imported_nodes == 5 and len(result.spec.nodes) == 6
    assert result.validation_errors == []


@pytest.mark.parametrize(
    ("text", "param", "words"),
    [
        ("key: [unclosed", None, "not valid YAML"),
        ("a: &x [1, 2]\nb: [*x, *x]\n", None, "aliases"),
        ("- just\n- a list\n", None, "not a YAML mapping"),
        (b"\xff\xfe\x00", None, "not UTF-8"),
        ("app: {mode: workflow}\nversion: 0.1.0\n", "kind", "kind: app"),
        ("kind: chorus-workflow\nversion: 1\n", "kind", "load_spec"),
        (dsl([START], [], version="1.0.0"), "version", "0.1.x to 0.6.x"),
        (dsl([START], [], version="latest"), "version", "not a Dify DSL version"),
        (dsl([START], [], mode="chat"), "app.mode", "only workflow apps import"),
        (dsl([START], [], mode="agent-chat"), "app.mode", "'agent-chat'"),
        ("kind: app\nversion: 0.1.0\napp: {name: x}\n", "app.mode", "app.mode is missing"),
        ("kind: app\nversion: 0.1.0\napp: {mode: workflow}\n", "workflow.graph.nodes", "graph"),
    ],
)
def test_what_is_not_a_dify_workflow_app_is_refused(
    text: str | bytes, param: str | None, words: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        import_dify(text)

    assert caught.value.param == param
    assert words in caught.value.message


def test_versions_without_a_number_or_newer_are_read() -> None:
    doc = yaml.safe_load(dsl([START, end(["start", "q"])], [edge("start", "end")]))
    del doc["version"]
    assert import_dify(yaml.safe_dump(doc)).report.dsl_version == "0.1.0"
    doc["version"] = 0.1  # YAML reads an unquoted 0.1 as a number
    assert import_dify(yaml.safe_dump(doc)).report.dsl_version == "0.1"
    doc["version"] = "0.7.2"
    newer = import_dify(yaml.safe_dump(doc))
    assert ("info", "version") in [(i.severity, i.field) for i in newer.report.items]


def test_load_spec_refuses_other_documents() -> None:
    spec = WorkflowSpec(nodes=[NodeSpec(id="start", type="start")])
    good = yaml.safe_load(export_spec(spec))

    for change, param in (({"kind": "app"}, "kind"), ({"version": 2}, "version")):
        with pytest.raises(InvalidInputError) as caught:
            load_spec(yaml.safe_dump(good | change))
        assert caught.value.param == param
    broken = json.loads(json.dumps(good))
    broken["workflow"]["nodes"][0]["bogus"] = 1
    with pytest.raises(InvalidInputError) as caught:
        load_spec(yaml.safe_dump(broken))
    assert caught.value.param == "workflow.nodes.0.bogus"
    assert load_spec(export_spec(spec).encode()) == spec
