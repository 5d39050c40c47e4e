"""The one exception tree of Chorus.

Every error a user can see is a :class:`ChorusError` with a stable ``code``, a
safe ``message``, an HTTP ``status_code`` and structured ``details``. Third-party
exceptions are translated once, at the edge, with ``raise ... from exc``. Codes are
the constants of :mod:`agents.error_codes` (the catalogue; ``docs/errors.md``).

::

    ChorusError                      500 internal_error
    ├── InvalidInputError            400 invalid_request
    │   └── ContextWindowExceededError   400 context_length_exceeded
    ├── UnauthorizedError            401 unauthorized
    ├── NotFoundError                404 not_found (and each feature's *_not_found)
    │   └── ModelNotFoundError           404 model_not_found
    ├── RateLimitedError             429 rate_limited
    ├── UpstreamError                502 upstream_error
    ├── UpstreamUnavailableError     503 engine_unavailable (carries retry_after); by
    │   │                                cause: store_unavailable, session_unavailable,
    │   │                                sandbox_unavailable, crew_llm_unavailable
    │   └── IndexUnavailableError        503 index_unavailable (agents/knowledge/index.py)
    └── TimeoutError                 504 timeout

Packages add their subtrees in their own ``errors.py`` (workflows, the sandbox, tools).
The classes pickle by value so they cross Ray actor boundaries unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agents import error_codes


class ChorusError(Exception):
    """Root of every user-facing error."""

    code: ClassVar[str] = error_codes.INTERNAL_ERROR
    status_code: ClassVar[int] = 500
    #: OpenAI's error ``type`` for this class of error.
    error_type: ClassVar[str] = "server_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.param = param
        self.details: dict[str, Any] = dict(details or {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))

    def to_openai(self) -> dict[str, Any]:
        """The error as OpenAI's error JSON body."""
        body: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "param": self.param,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return {"error": body}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


def _rebuild(cls: type[ChorusError], message: str, state: dict[str, Any]) -> ChorusError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class InvalidInputError(ChorusError):
    """The request is malformed or breaks a rule; ``param`` names the field."""

    code = error_codes.INVALID_REQUEST
    status_code = 400
    error_type = "invalid_request_error"


class ContextWindowExceededError(InvalidInputError):
    """The prompt does not fit in the model's context window."""

    code = error_codes.CONTEXT_LENGTH_EXCEEDED


class UnauthorizedError(ChorusError):
    code = error_codes.UNAUTHORIZED
    status_code = 401
    error_type = "authentication_error"


class NotFoundError(ChorusError):
    code = error_codes.NOT_FOUND
    status_code = 404
    error_type = "invalid_request_error"


class ModelNotFoundError(NotFoundError):
    code = error_codes.MODEL_NOT_FOUND


class RateLimitedError(ChorusError):
    code = error_codes.RATE_LIMITED
    status_code = 429
    error_type = "rate_limit_error"


class UpstreamError(ChorusError):
    """An engine or backing service answered with something we cannot use."""

    code = error_codes.UPSTREAM_ERROR
    status_code = 502


class UpstreamUnavailableError(ChorusError):
    """An engine or backing service is down or restarting; retry later."""

    code = error_codes.ENGINE_UNAVAILABLE
    status_code = 503

    def __init__(self, message: str, *, retry_after: float = 5.0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.details.setdefault("retry_after", retry_after)


class TimeoutError(ChorusError):  # noqa: A001 - the tree's name for it
    code = error_codes.TIMEOUT
    status_code = 504
