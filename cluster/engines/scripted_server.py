"""The ``scripted_server`` engine kind's process: the scripted engine behind the
OpenAI protocol, as llama-server serves a real model.

Benchmarks use it to measure the path a real model's tokens take (a supervised server
process read directly by its callers, :mod:`cluster.engines.direct`) without a model's
cost; the in-process ``scripted`` kind measures the relayed path.

Run by the engine replica as ``python -m cluster.engines.scripted_server --port N
--settings '<EngineSettings JSON>'``; it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agents.engine import ChatCompletionChunk, ChatRequest
from agents.errors import ChorusError, InvalidInputError
from cluster.engines.scripted import scripted_engine
from cluster.settings import EngineSettings


def build(settings: EngineSettings) -> Starlette:
    """The server's ASGI app: ``/health``, ``/v1/chat/completions`` (streamed or not)."""
    engine = scripted_engine(settings)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def completions(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            include_usage = bool((body.pop("stream_options", None) or {}).get("include_usage"))
            stream = bool(body.pop("stream", False))
            chat = ChatRequest.model_validate(body)
        except (ValueError, ValidationError) as exc:
            return _error(InvalidInputError(f"invalid request: {exc}"))
        try:
            if not stream:
                return JSONResponse((await engine.chat(chat)).model_dump(exclude_none=True))
            chunks = engine.chat_stream(chat)
            first = await anext(chunks)  # a refusal is a status, not a broken stream
        except ChorusError as exc:
            return _error(exc)
        return StreamingResponse(
            _events(first, chunks, include_usage), media_type="text/event-stream"
        )

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/chat/completions", completions, methods=["POST"]),
        ]
    )


async def _events(
    first: ChatCompletionChunk, chunks: AsyncIterator[ChatCompletionChunk], include_usage: bool
) -> AsyncIterator[bytes]:
    chunk: ChatCompletionChunk | None = first
    while chunk is not None:
        if include_usage or chunk.usage is None:
            yield b"data: " + chunk.model_dump_json(exclude_none=True).encode() + b"\n\n"
        chunk = await anext(chunks, None)
    yield b"data: [DONE]\n\n"


def _error(exc: ChorusError) -> Response:
    return JSONResponse(exc.to_openai(), status_code=exc.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--settings", required=True, help="EngineSettings as JSON")
    args = parser.parse_args()
    settings = EngineSettings.model_validate_json(args.settings)
    uvicorn.run(build(settings), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
