"""Errors at the HTTP edge: every failure becomes OpenAI's error JSON, never a traceback."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from agents import error_codes
from agents.errors import ChorusError, InvalidInputError

log = structlog.get_logger(__name__)


def error_response(exc: ChorusError) -> JSONResponse:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float):  # 503s, and 429s that know when
        headers["Retry-After"] = str(max(1, round(retry_after)))
    return JSONResponse(exc.to_openai(), status_code=exc.status_code, headers=headers)


def validation_error(
    exc: ValidationError | RequestValidationError, prefix: str = ""
) -> ChorusError:
    """A 400 that names the first bad field and says what is wrong with it."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body",)]
    # Drop pydantic's union-branch names (e.g. 'str', 'list[ContentPart]') from the path.
    field = ".".join(p for p in loc if not (p[:1].isalpha() and ("[" in p or p in _TYPE_NAMES)))
    field = (prefix + field) if field else prefix.rstrip(".") or "body"
    return InvalidInputError(
        f"invalid field '{field}': {first.get('msg', 'invalid value')}",
        param=field,
        details={
            "errors": [
                {"field": ".".join(map(str, e.get("loc", ()))), "message": e.get("msg")}
                for e in errors[:10]
            ]
        },
    )


_TYPE_NAMES = {"str", "int", "float", "bool", "NamedToolChoice", "function-after", "literal"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChorusError)
    async def _chorus(_: Request, exc: ChorusError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path, error=repr(exc))
        return error_response(
            ChorusError(
                "internal error; the server log has the details", code=error_codes.INTERNAL_ERROR
            )
        )
