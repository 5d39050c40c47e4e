"""The app spec: everything that defines a chat app, validated, versionable, portable.

A spec is plain data (YAML/JSON in, YAML/JSON out). Invalid specs are refused with
the field path and the reason (see :func:`parse_spec`); nothing is half-applied.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agents.errors import InvalidInputError

SPEC_VERSION = 1
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelParams(_Spec):
    model: str = Field(
        default="smollm2-135m-instruct", min_length=1, description="Model id from GET /v1/models."
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="Sampling temperature.")
    top_p: float = Field(default=1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_tokens: int = Field(default=512, ge=1, le=32768, description="Most tokens per answer.")


class PromptVariable(_Spec):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Name used as {{name}}.")
    default: str = Field(default="", description="Value when the conversation gives none.")
    required: bool = Field(default=False, description="A conversation must give a value.")


class MemorySpec(_Spec):
    window_messages: int = Field(
        default=20, ge=0, le=1000, description="Short-term memory: at most this many messages."
    )
    window_tokens: int = Field(
        default=1500,
        ge=0,
        description="Short-term memory: the recent messages must also fit this many tokens.",
    )
    summary: bool = Field(
        default=True,
        description="Long-term memory: keep a rolling summary of turns that left the window.",
    )
    summary_max_chars: int = Field(
        default=1200, ge=50, le=20000, description="Longest the rolling summary may grow."
    )


class FollowUpSpec(_Spec):
    enabled: bool = Field(default=False, description="Suggest follow-up questions after answers.")
    count: int = Field(default=3, ge=1, le=5, description="How many follow-ups (at most 5).")


class ModerationSpec(_Spec):
    input_keywords: list[str] = Field(
        default_factory=list, description="A user message containing one of these is blocked."
    )
    output_keywords: list[str] = Field(
        default_factory=list, description="These words are masked in answers, even mid-stream."
    )
    blocked_reply: str = Field(
        default="Sorry, I can't help with that.",
        description="The reply sent instead of an answer when the input is blocked.",
    )
    mask: str = Field(default="*", min_length=1, max_length=1, description="Masking character.")

    @field_validator("input_keywords", "output_keywords")
    @classmethod
    def _no_blank_keywords(cls, words: list[str]) -> list[str]:
        cleaned = [w.strip() for w in words]
        if any(not w for w in cleaned):
            raise ValueError("keywords must not be blank")
        return cleaned


class RetrievalSpec(_Spec):
    mode: Literal["vector", "keyword", "hybrid"] = Field(
        default="hybrid", description="How chunks are found: vector, keyword or hybrid search."
    )
    top_k: int = Field(default=4, ge=1, le=20, description="Chunks given to the model per turn.")
    score_threshold: float | None = Field(
        default=None, description="Ignore chunks scoring below this (in the mode's scale)."
    )
    alpha: float = Field(default=0.5, ge=0, le=1, description="Hybrid weight of vector search.")
    rerank: bool = Field(
        default=False, description="Let the app's model grade and reorder the candidates."
    )
    empty_reply: str = Field(
        default="I couldn't find anything about that in the knowledge base.",
        description="The answer when no chunk is relevant enough (the model is not asked).",
    )


class PlannerSpec(_Spec):
    max_steps: int = Field(
        default=5, ge=1, le=20, description="Model calls with tool use before the turn ends."
    )
    mode: Literal["native", "json_schema"] = Field(
        default="native",
        description="native: OpenAI tool calls (emulated by our engines for small models); "
        "json_schema: the planner constrains replies itself (engines without tool support).",
    )
    first_tool_choice: str = Field(
        default="auto",
        description="First step only: 'auto' (the model decides), 'required' (it must call "
        "a tool), or a tool's name (it must call that one).",
        min_length=1,
    )


class AppSpec(_Spec):
    """A chat app. The draft and every published version are one of these."""

    spec_version: int = Field(default=SPEC_VERSION, description="Format version of this spec.")
    name: str = Field(min_length=1, max_length=120, description="Display name.")
    description: str = Field(default="", max_length=2000, description="What the app is for.")
    model: ModelParams = Field(default_factory=ModelParams, description="Model and sampling.")
    system_prompt: str = Field(
        default="You are a helpful assistant.",
        max_length=20000,
        description="Instructions; {{variable}} placeholders are filled per conversation.",
    )
    variables: list[PromptVariable] = Field(
        default_factory=list, description="Variables the system prompt uses."
    )
    memory: MemorySpec = Field(default_factory=MemorySpec, description="Short and long memory.")
    opening_statement: str = Field(
        default="", max_length=2000, description="Sent when a conversation starts."
    )
    suggested_questions: list[str] = Field(
        default_factory=list, max_length=3, description="Up to 3 questions offered at the start."
    )
    follow_ups: FollowUpSpec = Field(
        default_factory=FollowUpSpec, description="Follow-up suggestions after each answer."
    )
    reply_language: str | None = Field(
        default=None, max_length=40, description="Answer in this language, e.g. 'English', 'zh'."
    )
    moderation: ModerationSpec = Field(
        default_factory=ModerationSpec, description="Keyword moderation of input and output."
    )
    knowledge_bases: list[str] = Field(
        default_factory=list, description="Knowledge base ids retrieved on every turn."
    )
    retrieval: RetrievalSpec = Field(
        default_factory=RetrievalSpec, description="How the knowledge bases are searched."
    )
    tools: list[str] = Field(default_factory=list, description="Tool ids the model may call.")
    workflows: list[str] = Field(
        default_factory=list, description="Workflow ids the model may call as skills."
    )
    crews: list[str] = Field(
        default_factory=list, description="Crew ids the model may call (each as one tool)."
    )
    planner: PlannerSpec = Field(
        default_factory=PlannerSpec,
        description="How the model uses tools and workflows (when the app has any).",
    )

    @model_validator(mode="after")
    def _variables_declared(self) -> AppSpec:
        declared = {v.name for v in self.variables}
        used = set(_VARIABLE.findall(self.system_prompt))
        missing = sorted(used - declared)
        if missing:
            raise ValueError(
                f"system_prompt uses undeclared variables: {', '.join(missing)} "
                "(declare them in variables)"
            )
        names = [v.name for v in self.variables]
        if len(names) != len(set(names)):
            raise ValueError("variables: names must be unique")
        return self

    def render_system_prompt(self, values: dict[str, str] | None = None) -> str:
        """The system prompt with variables filled; raises InvalidInputError if one is missing."""
        values = dict(values or {})
        for var in self.variables:
            if var.name not in values:
                if var.required:
                    raise InvalidInputError(
                        f"variable '{var.name}' is required", param=f"inputs.{var.name}"
                    )
                values[var.name] = var.default
        prompt = _VARIABLE.sub(lambda m: values.get(m.group(1), ""), self.system_prompt)
        if self.reply_language:
            prompt += f"\nAlways answer in {self.reply_language}."
        return prompt


def parse_spec(data: dict[str, Any] | str, *, fmt: str = "json") -> AppSpec:
    """Validate a spec from a dict, JSON or YAML text; errors name the field path."""
    if isinstance(data, str):
        try:
            data = yaml.safe_load(data) if fmt == "yaml" else json.loads(data)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise InvalidInputError(f"the spec is not valid {fmt.upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError("the spec must be an object")
    try:
        return AppSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "spec"
        raise InvalidInputError(
            f"invalid app spec at '{path}': {first['msg']}",
            param=path,
            details={
                "errors": [
                    {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                    for e in exc.errors()[:20]
                ]
            },
        ) from exc


def export_spec(spec: AppSpec, fmt: str = "yaml") -> str:
    data = spec.model_dump(mode="json")
    if fmt == "yaml":
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return json.dumps(data, ensure_ascii=False, indent=2)
