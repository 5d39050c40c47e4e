"""The model-facing workflow nodes (llm, question-classifier, parameter-extractor),
knowledge retrieval and tool, each run directly with a scripted engine and fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from agents.errors import ChorusError, NotFoundError, UpstreamUnavailableError
from agents.knowledge.index import ScoredChunk, SearchOptions
from agents.knowledge.retriever import RetrievedChunk
from agents.scripted_engine import ScriptedEngine, ScriptedReply
from agents.workflows.context import NodeContext, ServiceMissingError, WorkflowServices
from agents.workflows.errors import VariableNotFoundError
from agents.workflows.graph import NodeSpec
from agents.workflows.nodes.base import BaseNode
from agents.workflows.nodes.knowledge_retrieval.node import KnowledgeRetrievalNode
from agents.workflows.nodes.llm.errors import LlmOutputInvalidError
from agents.workflows.nodes.llm.node import LlmNode
from agents.workflows.nodes.parameter_extractor.node import ParameterExtractorNode
from agents.workflows.nodes.question_classifier.node import QuestionClassifierNode
from agents.workflows.nodes.tool.node import ToolNode
from agents.workflows.variable_pool import VariablePool


def make(cls: type[BaseNode[Any]], data: dict[str, Any], node_id: str = "n") -> Any:
    return cls(NodeSpec(id=node_id, type=cls.type, data=data), cls.data_model.model_validate(data))


class Harness:
    """A NodeContext over a pool, recording the deltas the node emits."""

    def __init__(self, engine: ScriptedEngine | None = None, **services: Any) -> None:
        self.pool = VariablePool(system={"query": "what about tea?"})
        self.engine = engine or ScriptedEngine(["ok"])
        self.models: list[str] = []
        self.deltas: list[tuple[str, str]] = []
        self.history: list[dict[str, str]] = []

        def engine_for(name: str) -> ScriptedEngine:
            self.models.append(name)
            return self.engine

        self.services = WorkflowServices(
            engine_for=engine_for, default_model="small", workspace_id="ws1", **services
        )

    async def _emit(self, node_id: str, text: str) -> None:
        self.deltas.append((node_id, text))

    def ctx(self, node_id: str = "n") -> NodeContext:
        return NodeContext(
            pool=self.pool,
            services=self.services,
            run_id="run1",
            workflow_id="wf1",
            node_id=node_id,
            emit_delta=self._emit,
            history=self.history,
        )


def sent(engine: ScriptedEngine, i: int = 0) -> list[tuple[str, str]]:
    return [(m.role, m.text()) for m in engine.requests[i].messages]


def schema_sent(engine: ScriptedEngine, i: int = 0) -> dict[str, Any]:
    response_format = engine.requests[i].response_format
    schema = response_format.output_schema() if response_format else None
    assert schema is not None
    return schema


# --- llm ---------------------------------------------------------------------------


async def test_llm_renders_variables_and_retrieved_context_and_streams() -> None:
    h = Harness(ScriptedEngine(["Green tea is calming."]))
    h.pool.set_outputs("start", {"topic": "tea"})
    h.pool.set_outputs("kr", {"result": [{"content": "Green tea."}, {"content": "Black tea."}]})
    node = make(
        LlmNode,
        {
            "model": {"name": "tiny", "temperature": 0.2},
            "prompt_template": [
                {"role": "system", "text": "Facts:\n{{#context#}}"},
                {"role": "user", "text": "About {{#start.topic#}}: {{#sys.query#}}"},
            ],
            "context": {"enabled": True, "variable_selector": ["kr", "result"]},
        },
        "writer",
    )
    result = await node.run(h.ctx("writer"))
    assert sent(h.engine) == [
        ("system", "Facts:\nGreen tea.\n\nBlack tea."),
        ("user", "About tea: what about tea?"),
    ]
    request = h.engine.requests[0]
    assert request.stream and request.temperature == 0.2 and request.response_format is None
    assert h.models == ["tiny"]
    assert result.outputs["text"] == "Green tea is calming."
    assert "".join(t for _, t in h.deltas) == "Green tea is calming."
    assert {n for n, _ in h.deltas} == {"writer"} and len(h.deltas) == 4
    usage = result.outputs["usage"]
    assert usage["completion_tokens"] == 4
    assert usage["total_tokens"] == usage["prompt_tokens"] + 4 == result.tokens
    assert result.inputs["model"] == "tiny"
    assert result.inputs["messages"][1] == {"role": "user", "content": "About tea: what about tea?"}
    assert "structured_output" not in result.outputs
    assert node.output_types() == {"text": "string", "usage": "object"}


async def test_llm_context_text_is_not_rendered_again() -> None:
    h = Harness(ScriptedEngine(["ok"]))
    h.pool.set_outputs("start", {"doc": "see {{#start.secret#}}", "secret": "leaked"})
    node = make(
        LlmNode,
        {
            "prompt_template": [{"role": "user", "text": "[{{#context#}}] {{#start.missing#}}."}],
            "context": {"enabled": True, "variable_selector": ["start", "doc"]},
        },
    )
    await node.run(h.ctx())
    assert sent(h.engine) == [("user", "[see {{#start.secret#}}] .")]
    assert h.models == ["small"]  # the server's default model


async def test_llm_memory_window_goes_before_the_last_user_message() -> None:
    h = Harness(ScriptedEngine(["fine"]))
    h.history = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
        {"role": "assistant", "content": "four"},
    ]
    data: dict[str, Any] = {
        "prompt_template": [
            {"role": "system", "text": "Be brief."},
            {"role": "user", "text": "{{#sys.query#}}"},
        ],
        "memory": {"window": 2},
    }
    await make(LlmNode, data).run(h.ctx())
    assert sent(h.engine) == [
        ("system", "Be brief."),
        ("user", "three"),
        ("assistant", "four"),
        ("user", "what about tea?"),
    ]
    del data["memory"]
    await make(LlmNode, data).run(h.ctx())
    assert len(sent(h.engine, 1)) == 2


async def test_llm_structured_output_is_parsed_and_not_streamed() -> None:
    h = Harness(ScriptedEngine(['```json\n{"name": "Ann", "age": 3}\n```']))
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    node = make(
        LlmNode,
        {
            "prompt_template": [{"role": "user", "text": "Who?"}],
            "structured_output": {"schema": schema},
        },
    )
    result = await node.run(h.ctx())
    assert result.outputs["structured_output"] == {"name": "Ann", "age": 3}
    assert h.deltas == []
    request = h.engine.requests[0]
    assert not request.stream
    assert schema_sent(h.engine) == schema
    assert node.output_types()["structured_output"] == "object"


@pytest.mark.parametrize("answer", ["not json at all", '{"name": "Ann"}', "[1, 2]"])
async def test_llm_invalid_structured_output_is_rejected(answer: str) -> None:
    h = Harness(ScriptedEngine([answer]))
    node = make(
        LlmNode,
        {
            "prompt_template": [{"role": "user", "text": "Who?"}],
            "structured_output": {
                "schema": {"type": "object", "required": ["name", "age"], "properties": {}}
            },
        },
    )
    with pytest.raises(LlmOutputInvalidError) as caught:
        await node.run(h.ctx())
    assert caught.value.code == "llm_output_invalid"


async def test_llm_engine_error_propagates_unchanged() -> None:
    h = Harness(ScriptedEngine([ScriptedReply(error=UpstreamUnavailableError("restarting"))]))
    node = make(LlmNode, {"prompt_template": [{"role": "user", "text": "hi"}]})
    with pytest.raises(UpstreamUnavailableError):
        await node.run(h.ctx())


def test_llm_references_and_data_validation() -> None:
    node = make(
        LlmNode,
        {
            "prompt_template": [
                {"role": "system", "text": "{{#context#}}"},
                {"role": "user", "text": "{{#start.a#}} and {{#sys.query#}}"},
            ],
            "context": {"enabled": True, "variable_selector": ["kr", "result"]},
        },
    )
    refs = [(r.selector, r.field) for r in node.references()]
    assert refs == [
        (["start", "a"], "prompt_template.1.text"),
        (["sys", "query"], "prompt_template.1.text"),
        (["kr", "result"], "context.variable_selector"),
    ]
    bad: list[dict[str, Any]] = [
        {"prompt_template": []},
        {"prompt_template": [{"role": "user", "text": "x"}], "context": {"enabled": True}},
        {"prompt_template": [{"role": "tool", "text": "x"}]},
        {"prompt_template": [{"role": "user", "text": "x"}], "temperature": 1},
        {
            "prompt_template": [{"role": "user", "text": "x"}],
            "structured_output": {"schema": {"type": "array"}},
        },
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            LlmNode.data_model.model_validate(data)


# --- question-classifier -----------------------------------------------------------

CLASSES = [
    {"id": "billing", "name": "Invoices, payments and refunds"},
    {"id": "tech", "name": "Bugs and how-to questions"},
]


async def test_classifier_picks_the_handle_with_a_schema() -> None:
    h = Harness(ScriptedEngine(['{"class_id": "tech"}']))
    h.pool.set_outputs("start", {"q": "The app crashes on login"})
    node = make(
        QuestionClassifierNode,
        {
            "query_variable_selector": ["start", "q"],
            "classes": CLASSES,
            "instruction": "The user speaks {{#start.lang#}}.",
            "model": {"temperature": 0.9},
        },
    )
    assert node.handles() == ["billing", "tech"]
    result = await node.run(h.ctx())
    assert result.handle == "tech"
    assert result.outputs["class_id"] == "tech"
    assert result.outputs["class_name"] == "Bugs and how-to questions"
    assert result.tokens == result.outputs["usage"]["total_tokens"] > 0
    request = h.engine.requests[0]
    assert request.temperature == 0
    schema = schema_sent(h.engine)
    assert schema["properties"]["class_id"]["enum"] == ["billing", "tech"]
    system, user = sent(h.engine)
    assert "- billing: Invoices" in system[1] and "The user speaks ." in system[1]
    assert user == ("user", "The app crashes on login")
    assert result.inputs["messages"][1]["content"] == "The app crashes on login"
    assert [r.selector for r in node.references()] == [["start", "q"], ["start", "lang"]]


async def test_classifier_rejects_an_unknown_class() -> None:
    h = Harness(ScriptedEngine(['{"class_id": "sales"}']))
    node = make(
        QuestionClassifierNode, {"query_variable_selector": ["sys", "query"], "classes": CLASSES}
    )
    with pytest.raises(LlmOutputInvalidError):
        await node.run(h.ctx())


def test_classifier_class_ids_are_unique_and_not_reserved() -> None:
    for classes in ([], [CLASSES[0], CLASSES[0]], [{"id": "fail-branch", "name": "x"}]):
        with pytest.raises(ValidationError):
            QuestionClassifierNode.data_model.model_validate(
                {"query_variable_selector": ["sys", "query"], "classes": classes}
            )


# --- parameter-extractor -----------------------------------------------------------

PARAMETERS = [
    {"name": "city", "type": "string", "description": "Destination", "required": True},
    {"name": "days", "type": "integer", "description": "Trip length"},
    {"name": "unit", "type": "string", "options": ["celsius", "fahrenheit"]},
    {"name": "tags", "type": "array[string]"},
]


def extractor() -> ParameterExtractorNode:
    node: ParameterExtractorNode = make(
        ParameterExtractorNode,
        {
            "query": ["sys", "query"],
            "parameters": PARAMETERS,
            "instruction": "Dates are in {{#env.TZ#}}.",
        },
    )
    return node


async def test_extractor_success() -> None:
    answer = {"city": "Paris", "days": 3.0, "unit": "celsius", "tags": ["food"]}
    h = Harness(ScriptedEngine([json.dumps(answer)]))
    node = extractor()
    result = await node.run(h.ctx())
    out = result.outputs
    assert (out["city"], out["days"], out["unit"], out["tags"]) == ("Paris", 3, "celsius", ["food"])
    assert out["__is_success"] == 1 and out["__reason"] == ""
    schema = schema_sent(h.engine)
    assert schema["required"] == ["city"]
    assert schema["properties"]["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert schema["properties"]["days"]["type"] == "integer"
    assert schema["properties"]["tags"]["items"] == {"type": "string"}
    assert h.engine.requests[0].temperature == 0
    assert node.output_types() == {
        "city": "string",
        "days": "integer",
        "unit": "string",
        "tags": "array[string]",
        "__is_success": "integer",
        "__reason": "string",
        "usage": "object",
    }
    assert [r.selector for r in node.references()] == [["sys", "query"], ["env", "TZ"]]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ('{"days": 2}', "missing required parameter 'city'"),
        ('{"city": null}', "missing required parameter 'city'"),
        ('{"city": "Rome", "unit": "kelvin"}', "parameter 'unit' is not a valid string"),
        ('{"city": "Rome", "days": "two"}', "parameter 'days' is not a valid integer"),
        ("no idea", "not a JSON object"),
    ],
)
async def test_extractor_failure_is_reported_not_raised(answer: str, reason: str) -> None:
    h = Harness(ScriptedEngine([answer]))
    result = await extractor().run(h.ctx())
    out = result.outputs
    assert out["__is_success"] == 0 and reason in out["__reason"]
    assert isinstance(out["city"], str) and isinstance(out["tags"], list)
    if answer == '{"days": 2}':
        assert out["days"] == 2 and out["city"] == ""


def test_extractor_data_validation() -> None:
    bad = [
        [{"name": "__x", "type": "string"}],
        [{"name": "n", "type": "number", "options": ["1"]}],
        [{"name": "a", "type": "string"}, {"name": "a", "type": "number"}],
        [{"name": "a", "type": "date"}],
    ]
    for parameters in bad:
        with pytest.raises(ValidationError):
            ParameterExtractorNode.data_model.model_validate(
                {"query": ["sys", "query"], "parameters": parameters}
            )


# --- knowledge-retrieval -----------------------------------------------------------


class FakeRetriever:
    def __init__(self, chunks: list[RetrievedChunk]) -> None:
        self.chunks = chunks
        self.calls: list[tuple[str, list[str], str, SearchOptions]] = []

    async def retrieve(
        self, workspace_id: str, kb_ids: list[str], query: str, options: SearchOptions
    ) -> list[RetrievedChunk]:
        self.calls.append((workspace_id, kb_ids, query, options))
        return self.chunks


def chunk(kb: str, cid: str, text: str, score: float, parent: str | None = None) -> RetrievedChunk:
    return RetrievedChunk(
        kb_id=kb,
        chunk=ScoredChunk(
            id=cid, document_id="doc-" + cid, chunk_index=0, text=text, parent_text=parent,
            title="Guide", score=score,
        ),
    )  # fmt: skip


async def test_retrieval_result_shape_and_options() -> None:
    retriever = FakeRetriever([chunk("kb1", "c1", "tea", 0.9), chunk("kb2", "c2", "x", 0.5, "all")])
    h = Harness(retriever=retriever)
    node = make(
        KnowledgeRetrievalNode,
        {
            "query_variable_selector": ["sys", "query"],
            "dataset_ids": ["kb1", "kb2"],
            "top_k": 2,
            "score_threshold": 0.3,
            "mode": "vector",
            "alpha": 0.8,
        },
    )
    result = await node.run(h.ctx())
    assert result.outputs["result"] == [
        {"content": "tea", "title": "Guide", "document_id": "doc-c1", "kb_id": "kb1",
         "chunk_id": "c1", "score": 0.9},
        {"content": "all", "title": "Guide", "document_id": "doc-c2", "kb_id": "kb2",
         "chunk_id": "c2", "score": 0.5},
    ]  # fmt: skip
    ((workspace, kbs, query, options),) = retriever.calls
    assert (workspace, kbs, query) == ("ws1", ["kb1", "kb2"], "what about tea?")
    assert (options.mode, options.top_k, options.score_threshold, options.alpha) == (
        "vector", 2, 0.3, 0.8,
    )  # fmt: skip
    assert node.output_types() == {"result": "array[object]"}


async def test_retrieval_without_datasets_is_empty_and_without_retriever_fails() -> None:
    h = Harness()
    empty = make(KnowledgeRetrievalNode, {"query_variable_selector": ["sys", "query"]})
    assert (await empty.run(h.ctx())).outputs == {"result": []}
    node = make(
        KnowledgeRetrievalNode, {"query_variable_selector": ["sys", "query"], "dataset_ids": ["k"]}
    )
    with pytest.raises(ServiceMissingError):
        await node.run(h.ctx())


# --- tool --------------------------------------------------------------------------


class FakeTool:
    def __init__(self, name: str, result: Any = None, error: Exception | None = None) -> None:
        self.name = name
        self.description = "a tool"
        self.parameters: dict[str, Any] = {"type": "object", "required": ["city"]}
        self.result = result
        self.error = error
        self.calls: list[dict[str, Any]] = []

    async def call(self, arguments: dict[str, Any]) -> Any:
        self.calls.append(arguments)
        if self.error is not None:
            raise self.error
        return self.result


class FakeTools:
    def __init__(self, *tools: FakeTool) -> None:
        self.tools = {t.name: t for t in tools}

    def get(self, name: str) -> FakeTool:
        if name not in self.tools:
            raise NotFoundError(f"no tool called {name}")
        return self.tools[name]


def tool_node(name: str = "weather") -> ToolNode:
    node: ToolNode = make(
        ToolNode,
        {
            "tool_name": name,
            "tool_parameters": {
                "city": {"type": "variable", "value": ["start", "city"]},
                "days": {"type": "constant", "value": 3},
                "note": {"type": "mixed", "value": "for {{#start.who#}} in {{#start.city#}}"},
                "extra": {"type": "variable", "value": ["start", "absent"]},
            },
        },
    )
    return node


async def test_tool_builds_arguments_from_constant_variable_and_mixed() -> None:
    weather = FakeTool("weather", {"temp": 21, "sky": "clear"})
    h = Harness(tools=FakeTools(weather))
    h.pool.set_outputs("start", {"city": "Oslo", "who": "Kim"})
    node = tool_node()
    result = await node.run(h.ctx())
    assert weather.calls == [{"city": "Oslo", "days": 3, "note": "for Kim in Oslo"}]
    assert result.inputs == weather.calls[0]
    assert result.outputs["json"] == {"temp": 21, "sky": "clear"}
    assert json.loads(result.outputs["text"]) == {"temp": 21, "sky": "clear"}
    assert {(tuple(r.selector), r.field) for r in node.references()} == {
        (("start", "city"), "tool_parameters.city.value"),
        (("start", "who"), "tool_parameters.note.value"),
        (("start", "city"), "tool_parameters.note.value"),
        (("start", "absent"), "tool_parameters.extra.value"),
    }


async def test_tool_text_result_and_missing_required_variable() -> None:
    weather = FakeTool("weather", "sunny")
    h = Harness(tools=FakeTools(weather))
    h.pool.set_outputs("start", {"city": "Oslo"})
    result = await tool_node().run(h.ctx())
    assert result.outputs == {"text": "sunny", "json": "sunny"}
    h.pool.set_outputs("start", {})
    with pytest.raises(VariableNotFoundError):
        await tool_node().run(h.ctx())


async def test_tool_failures() -> None:
    broken = FakeTool("broken", error=RuntimeError("disk full"))
    refused = FakeTool("refused", error=UpstreamUnavailableError("try later"))
    h = Harness(tools=FakeTools(broken, refused))
    h.pool.set_outputs("start", {"city": "Oslo"})
    with pytest.raises(ChorusError) as caught:
        await tool_node("broken").run(h.ctx())
    assert caught.value.code == "tool_failed" and "disk full" in caught.value.message
    with pytest.raises(UpstreamUnavailableError):
        await tool_node("refused").run(h.ctx())
    with pytest.raises(NotFoundError):
        await tool_node("nope").run(h.ctx())
    with pytest.raises(ServiceMissingError):
        await tool_node().run(Harness().ctx())


def test_tool_argument_values_fit_their_type() -> None:
    for arg in ({"type": "variable", "value": "start.city"}, {"type": "mixed", "value": 3}):
        with pytest.raises(ValidationError):
            ToolNode.data_model.model_validate({"tool_name": "t", "tool_parameters": {"a": arg}})
