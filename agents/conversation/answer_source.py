"""Where an answer's pieces come from: the model, streamed, or the planner when the app
has tools, workflows or crews. Pieces are text, the usage of each model call, and the
planner's tool_call / tool_result events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from agents.apps.spec import AppSpec
from agents.engine import ChatMessage, ChatRequest, EngineProtocol, Usage
from agents.events import Event
from agents.planner import Planner, PlannerToolProtocol

AnswerPiece = str | Usage | Event


async def planned_answer(
    engine: EngineProtocol,
    spec: AppSpec,
    tools: Sequence[PlannerToolProtocol],
    prompt: list[ChatMessage],
    *,
    conversation_id: str,
    message_id: str,
) -> AsyncIterator[AnswerPiece]:
    """The planner's answer: it calls the tools until the model answers."""
    planner = Planner(
        engine,
        spec.model.model,
        tools,
        max_steps=spec.planner.max_steps,
        mode=spec.planner.mode,
        first_tool_choice=spec.planner.first_tool_choice,
        temperature=spec.model.temperature,
        max_tokens=spec.model.max_tokens,
    )
    outputs = planner.run(prompt, conversation_id=conversation_id, message_id=message_id)
    try:
        async for out in outputs:
            if out.kind == "text":
                yield out.text
            elif out.kind == "usage" and out.usage is not None:
                yield out.usage
            elif out.event is not None:
                yield out.event
    finally:
        await outputs.aclose()  # type: ignore[attr-defined]


async def streamed_answer(
    engine: EngineProtocol, spec: AppSpec, prompt: list[ChatMessage]
) -> AsyncIterator[AnswerPiece]:
    """The model's answer, streamed, with the call's usage."""
    request = ChatRequest(
        model=spec.model.model,
        messages=prompt,
        temperature=spec.model.temperature,
        top_p=spec.model.top_p,
        max_tokens=spec.model.max_tokens,
        stream=True,
    )
    stream = engine.chat_stream(request)
    try:
        async for chunk in stream:
            if chunk.usage is not None:
                yield chunk.usage
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
