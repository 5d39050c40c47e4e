"""The crew spec: agents with roles and tools, and the tasks they work through.

A crew is plain data (JSON in, JSON out), run by CrewAI on the server (see
``cluster.crews.crew_runner``). Task descriptions, expected outputs and the agents'
role, goal and backstory may hold ``{name}`` placeholders, filled from the run's
inputs; every placeholder must be declared in ``inputs``. Invalid specs are refused
with the field path and the reason (:func:`parse_crew_spec`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from agents import error_codes
from agents.errors import InvalidInputError

#: The placeholders CrewAI fills at kickoff (the same pattern CrewAI interpolates).
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-]*)\}")
_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSpec(_Spec):
    id: str = Field(pattern=_ID, description="The agent's id, used by tasks' 'agent'.")
    role: str = Field(min_length=1, max_length=200, description="Who the agent is, e.g. 'Writer'.")
    goal: str = Field(min_length=1, max_length=2000, description="What the agent tries to achieve.")
    backstory: str = Field(
        min_length=1, max_length=4000, description="Background that shapes how the agent works."
    )
    tools: list[str] = Field(
        default_factory=list,
        max_length=32,
        description="Names of the workspace's tools the agent may call (GET /api/tools).",
    )
    allow_delegation: bool = Field(
        default=False, description="The agent may hand work to, or ask, the crew's other agents."
    )
    max_iter: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Most reasoning steps (model calls) before the agent must give its answer.",
    )


class TaskSpec(_Spec):
    id: str = Field(pattern=_ID, description="The task's id, used by later tasks' 'context'.")
    description: str = Field(
        min_length=1,
        max_length=8000,
        description="What to do; may contain {input} placeholders declared in the crew's inputs.",
    )
    expected_output: str = Field(
        min_length=1,
        max_length=4000,
        description="What the result should look like; may contain {input} placeholders.",
    )
    agent: str = Field(description="Id of the agent that does the task.")
    context: list[str] | None = Field(
        default=None,
        description=(
            "Ids of earlier tasks whose outputs are given to this task as context; [] for "
            "none. Default: a sequential crew gives each task the outputs of all earlier ones."
        ),
    )


class CrewSpec(_Spec):
    name: str = Field(min_length=1, max_length=200, description="The crew's display name.")
    description: str = Field(default="", max_length=2000, description="What the crew is for.")
    agents: list[AgentSpec] = Field(
        min_length=1, max_length=20, description="The crew's agents; ids must be unique."
    )
    tasks: list[TaskSpec] = Field(
        min_length=1,
        max_length=50,
        description="The tasks, in the order a sequential crew works through them.",
    )
    process: Literal["sequential", "hierarchical"] = Field(
        default="sequential",
        description=(
            "sequential: each task in order by its agent; hierarchical: a manager model "
            "plans, delegates to the agents and checks their work."
        ),
    )
    manager_model: str | None = Field(
        default=None,
        min_length=1,
        description="Model of the manager agent; required when process is hierarchical.",
    )
    model: str | None = Field(
        default=None,
        min_length=1,
        description="Model the agents run on (GET /v1/models); default: the server's default.",
    )
    inputs: list[str] = Field(
        default_factory=list,
        description="Names of the run's inputs, used as {name} in tasks and agents.",
    )
    max_tokens: int | None = Field(
        default=None, ge=1, le=32768, description="Most tokens per model reply; default: no cap."
    )
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Sampling temperature; default: the model's."
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> CrewSpec:
        problem = next(iter(self.problems()), None)
        if problem is not None:
            path, reason = problem
            raise PydanticCustomError(
                "crew_spec", "{path}: {reason}", {"path": path, "reason": reason}
            )
        return self

    def problems(self) -> list[tuple[str, str]]:
        """Every cross-field problem as (field path, reason), in spec order."""
        found: list[tuple[str, str]] = []
        found += _duplicates("inputs", self.inputs, "input")
        for i, name in enumerate(self.inputs):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                found.append((f"inputs.{i}", f"'{name}' is not a valid input name"))
        found += _duplicates("agents", [a.id for a in self.agents], "agent id", suffix=".id")
        found += _duplicates("tasks", [t.id for t in self.tasks], "task id", suffix=".id")
        agent_ids = {a.id for a in self.agents}
        task_order: dict[str, int] = {}
        for index, task in enumerate(self.tasks):
            task_order.setdefault(task.id, index)
        for i, task in enumerate(self.tasks):
            if task.agent not in agent_ids:
                found.append(
                    (
                        f"tasks.{i}.agent",
                        f"unknown agent '{task.agent}' (agents: {', '.join(sorted(agent_ids))})",
                    )
                )
            for j, ref in enumerate(task.context or []):
                where = f"tasks.{i}.context.{j}"
                if ref not in task_order:
                    found.append((where, f"unknown task '{ref}'"))
                elif task_order[ref] >= i:
                    found.append(
                        (
                            where,
                            f"task '{ref}' does not come before '{task.id}'; "
                            "context may only name earlier tasks",
                        )  # fmt: skip
                    )
        if self.process == "hierarchical" and self.manager_model is None:
            found.append(("manager_model", "required when process is 'hierarchical'"))
        declared = set(self.inputs)
        for path, text in self._templates():
            for name in PLACEHOLDER.findall(text):
                if name not in declared:
                    found.append((path, f"placeholder {{{name}}} is not declared in inputs"))
        return found

    def _templates(self) -> list[tuple[str, str]]:
        """(path, text) of every field CrewAI fills placeholders in."""
        out: list[tuple[str, str]] = []
        for i, agent in enumerate(self.agents):
            out += [(f"agents.{i}.{f}", getattr(agent, f)) for f in ("role", "goal", "backstory")]
        for i, task in enumerate(self.tasks):
            out += [
                (f"tasks.{i}.{f}", getattr(task, f)) for f in ("description", "expected_output")
            ]
        return out

    def agent(self, agent_id: str) -> AgentSpec:
        return next(a for a in self.agents if a.id == agent_id)

    def check_inputs(self, values: dict[str, Any]) -> dict[str, str]:
        """The run's inputs as CrewAI takes them; InvalidInputError names the bad one."""
        for name in values:
            if name not in self.inputs:
                raise InvalidInputError(
                    f"'{name}' is not an input of this crew (inputs: {', '.join(self.inputs)})",
                    param=f"inputs.{name}",
                )
        checked: dict[str, str] = {}
        for name in self.inputs:
            value = values.get(name)
            if value is None:
                raise InvalidInputError(f"input '{name}' is required", param=f"inputs.{name}")
            if not isinstance(value, str | int | float | bool):
                raise InvalidInputError(
                    f"input '{name}' must be a string or a number", param=f"inputs.{name}"
                )
            checked[name] = str(value)
        return checked


def _duplicates(
    field: str, values: list[str], what: str, *, suffix: str = ""
) -> list[tuple[str, str]]:
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for i, value in enumerate(values):
        if value in seen:
            found.append((f"{field}.{i}{suffix}", f"duplicate {what} '{value}'"))
        seen.add(value)
    return found


def parse_crew_spec(data: Any) -> CrewSpec:
    """Validate a crew spec from a dict; InvalidInputError names the field path."""
    if not isinstance(data, dict):
        raise InvalidInputError("the crew spec must be a JSON object")
    try:
        return CrewSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc) from exc


def spec_error(exc: ValidationError) -> InvalidInputError:
    """The first problem of ``exc`` as an InvalidInputError whose ``param`` is its path."""
    errors = exc.errors()
    first = errors[0]
    ctx = first.get("ctx") or {}
    if first["type"] == "crew_spec":
        path, reason = str(ctx["path"]), str(ctx["reason"])
    else:
        path = ".".join(str(p) for p in first["loc"]) or "spec"
        reason = first["msg"]
    return InvalidInputError(
        f"invalid crew spec at '{path}': {reason}",
        code=error_codes.CREW_SPEC_INVALID,
        param=path,
        details={
            "errors": [
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in errors[:10]
            ]
        },
    )
