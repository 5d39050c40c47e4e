"""The catalogue of error codes: every ``code`` a client can see, its HTTP status and
what it means.

A code is a named constant here (``error_codes.WORKFLOW_NOT_FOUND``), never a string
literal at the place that raises it: the error classes of the tree
(:mod:`agents.errors` and the ``errors.py`` of each package) and every ``code=``
argument name one of these. ``docs/errors.md`` holds the table generated from this
module (``python -m agents.error_codes > docs/errors.md``); a test checks that the two
agree and that no code is written as a literal anywhere else.

``status`` is the HTTP status when the error ends a request; codes that only ever
reach a client inside a stream (a websocket ``error`` event, a failed message, a
document's ``error_code``) say so with ``status=None``.
"""

from __future__ import annotations

from collections.abc import Callable

#: Every code by its wire value, in the order defined (the order of the docs table).
CATALOGUE: dict[str, ErrorCode] = {}


class ErrorCode(str):
    """A wire code: a ``str`` that also knows its area, HTTP status and meaning."""

    area: str
    status: int | None
    meaning: str

    def __new__(cls, code: str, area: str, status: int | None, meaning: str) -> ErrorCode:
        if code in CATALOGUE:
            raise ValueError(f"error code {code!r} is defined twice")
        self = super().__new__(cls, code)
        self.area, self.status, self.meaning = area, status, meaning
        CATALOGUE[code] = self
        return self

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (str(self),))  # crosses processes as the plain wire string


def _area(area: str) -> Callable[[str, int | None, str], ErrorCode]:
    """The constructor of the codes of one area (the docs table's sections)."""
    return lambda code, status, meaning: ErrorCode(code, area, status, meaning)


_code = _area("general")
INTERNAL_ERROR = _code(
    "internal_error", 500, "An unexpected failure; the server log has the details."
)
INVALID_REQUEST = _code(
    "invalid_request", 400, "The request is malformed or breaks a rule; `param` names the field."
)
REQUEST_TOO_LARGE = _code(
    "request_too_large", 400, "The request body is over the server's size limit."
)
UNAUTHORIZED = _code("unauthorized", 401, "The caller is not authenticated.")
NOT_FOUND = _code(
    "not_found", 404, "The thing asked for does not exist (or is another workspace's)."
)
RATE_LIMITED = _code(
    "rate_limited", 429, "Too many requests; retry after the time the response gives."
)
QUOTA_EXCEEDED = _code(
    "quota_exceeded", 429, "A daily token quota is used up; it renews at midnight UTC."
)
TIMEOUT = _code("timeout", 504, "An operation did not finish in its time limit.")
SERVICE_UNAVAILABLE = _code(
    "service_unavailable", 503, "This server runs no service the request needs (e.g. crews)."
)
STORE_UNAVAILABLE = _code(
    "store_unavailable", 503, "The database is unreachable or locked; retry shortly."
)
URL_BLOCKED = _code(
    "url_blocked", 400, "The outbound guard refused the URL (private address or bad scheme)."
)

_code = _area("models")
MODEL_NOT_FOUND = _code("model_not_found", 404, "The server serves no model of that name.")
CONTEXT_LENGTH_EXCEEDED = _code(
    "context_length_exceeded",
    400,
    "The prompt is over the context window (`details.excess_tokens`).",
)
UPSTREAM_ERROR = _code("upstream_error", 502, "A model server answered with something unusable.")
ENGINE_UNAVAILABLE = _code(
    "engine_unavailable", 503, "A model server is down or restarting; retry after `Retry-After`."
)

_code = _area("apps and conversations")
APP_NOT_FOUND = _code("app_not_found", 404, "No such app in this workspace.")
APP_NOT_PUBLISHED = _code(
    "app_not_published", 400, "The app has no published version; publish it or use debug chat."
)
VERSION_NOT_FOUND = _code("version_not_found", 404, "The app has no such version.")
CONVERSATION_NOT_FOUND = _code(
    "conversation_not_found", 404, "No such conversation in this workspace (or it was deleted)."
)
MESSAGE_NOT_FOUND = _code("message_not_found", 404, "No such message.")
DUPLICATE_MESSAGE = _code(
    "duplicate_message", 400, "A message with that sequence number is already stored."
)
TURN_IN_PROGRESS = _code(
    "turn_in_progress", None, "An answer is still streaming; stop it or wait for `message_end`."
)
SESSION_INTERRUPTED = _code(
    "session_interrupted", None, "The session restarted mid-answer; send the message again."
)
SESSION_UNAVAILABLE = _code(
    "session_unavailable", 503, "The conversation's session shard is restarting; retry shortly."
)
INTERRUPTED = _code(
    "interrupted", None, "A stored answer whose session restarted before it finished."
)
KNOWLEDGE_UNAVAILABLE = _code(
    "knowledge_unavailable",
    None,
    "The app uses knowledge, but this process has no knowledge service.",
)

_code = _area("websocket")
MESSAGE_TOO_LARGE = _code(
    "message_too_large", None, "A frame is over the server's message size limit."
)
INVALID_JSON = _code("invalid_json", None, "A frame is not valid JSON.")
INVALID_FRAME = _code(
    "invalid_frame", None, "A frame does not match the protocol; the message names the field."
)
NO_TURN_RUNNING = _code("no_turn_running", None, "`stop` arrived while no answer was streaming.")
UNKNOWN_FRAME = _code("unknown_frame", None, "A frame's `type` is not one the protocol knows.")
NO_CONVERSATION = _code(
    "no_conversation", None, "A `message` arrived before a `start` or `resume` frame."
)
SLOW_READER = _code(
    "slow_reader",
    None,
    "The close reason (code 4008) of a client that stayed behind reading its frames; its "
    "answers still complete and are stored.",
)

_code = _area("knowledge")
KB_NOT_FOUND = _code("kb_not_found", 404, "No such knowledge base in this workspace.")
DOCUMENT_NOT_FOUND = _code("document_not_found", 404, "No such document in the knowledge base.")
INDEX_UNAVAILABLE = _code(
    "index_unavailable", 503, "The knowledge index (LanceDB or Weaviate) failed; retry shortly."
)
DOCUMENT_UNREADABLE = _code("document_unreadable", None, "A document's file could not be parsed.")
UNSUPPORTED_TYPE = _code(
    "unsupported_type", None, "A document's file type is not one the server reads."
)
EMPTY_DOCUMENT = _code("empty_document", None, "A document's file holds no text.")
ENCRYPTED = _code("encrypted", None, "A document's file is password-protected.")
TOO_LARGE = _code("too_large", None, "A document's file is over the upload size limit.")
SOURCE_MISSING = _code(
    "source_missing", None, "A document's uploaded file is gone, so it cannot be re-indexed."
)

_code = _area("workflows")
WORKFLOW_NOT_FOUND = _code("workflow_not_found", 404, "No such workflow in this workspace.")
RUN_NOT_FOUND = _code(
    "run_not_found", 404, "No such run (of a workflow or a crew) in this workspace."
)
WORKFLOW_INVALID = _code(
    "workflow_invalid", 400, "The graph is wrong; `details.errors` lists each node and field."
)
WORKFLOW_INPUT_INVALID = _code(
    "workflow_input_invalid", 400, "A run's inputs do not match the start node."
)
NODE_FAILED = _code("node_failed", 422, "A node failed (the generic code of a node's failure).")
NODE_CRASHED = _code("node_crashed", 422, "A node raised an unexpected exception.")
NODE_TIMEOUT = _code("node_timeout", 422, "A node did not finish within its timeout.")
VARIABLE_NOT_FOUND = _code("variable_not_found", 422, "A node read a variable that has no value.")
CONDITION_TYPE_ERROR = _code(
    "condition_type_error",
    422,
    "An if/else condition compared wrong types or used no known operator.",
)
ITERATION_INPUT_INVALID = _code(
    "iteration_input_invalid", 422, "An iteration node's input is not a list, or is too long."
)
TEMPLATE_ERROR = _code("template_error", 422, "A template transform failed to render.")
TEMPLATE_OUTPUT_TOO_LONG = _code(
    "template_output_too_long", 422, "A template transform's output is over its limit."
)
HTTP_BODY_INVALID = _code(
    "http_body_invalid", 422, "An HTTP request node's body could not be built."
)
HTTP_STATUS_ERROR = _code(
    "http_status_error", 422, "An HTTP request node's call answered with an error status."
)
LLM_OUTPUT_INVALID = _code(
    "llm_output_invalid", 422, "A model's structured output did not parse or match its schema."
)
CODE_ERROR = _code("code_error", 422, "User code raised an exception or exited with an error.")
CODE_RESULT_INVALID = _code(
    "code_result_invalid", 422, "User code returned something other than its declared outputs."
)
CODE_LIMIT_EXCEEDED = _code(
    "code_limit_exceeded", 422, "User code went over a sandbox limit (CPU, memory, time, output)."
)
SANDBOX_UNAVAILABLE = _code(
    "sandbox_unavailable", 503, "This machine cannot isolate user code (see docs/security.md)."
)

_code = _area("tools")
TOOL_NOT_FOUND = _code("tool_not_found", 404, "No tool of that name in the workspace.")
TOOL_PROVIDER_NOT_FOUND = _code(
    "tool_provider_not_found", 404, "No such tool provider in this workspace."
)
TOOL_ARGUMENTS_INVALID = _code(
    "tool_arguments_invalid",
    400,
    "A tool's arguments do not match its schema; `param` names the field.",
)
TOOL_FAILED = _code("tool_failed", 502, "A tool failed while running.")
TOOL_HTTP_ERROR = _code("tool_http_error", 502, "A tool's HTTP call answered with an error status.")
OPENAPI_INVALID = _code("openapi_invalid", 400, "The OpenAPI document cannot be read.")
OPENAPI_NO_TOOLS = _code(
    "openapi_no_tools", 400, "No operation of the OpenAPI document could be imported."
)
OPENAPI_FETCH_FAILED = _code(
    "openapi_fetch_failed", 400, "Fetching the OpenAPI document answered with an error status."
)
SECRET_KEY_INVALID = _code(
    "secret_key_invalid", 500, "The server's secret-encryption key is unusable."
)
SECRET_UNDECRYPTABLE = _code(
    "secret_undecryptable", 500, "A stored credential was sealed with another key."
)

_code = _area("crews")
CREW_NOT_FOUND = _code("crew_not_found", 404, "No such crew in this workspace.")
CREW_SPEC_INVALID = _code(
    "crew_spec_invalid", 400, "The crew is not valid; the message names the field."
)
CREW_FAILED = _code("crew_failed", 502, "The crew failed while running.")
CREW_LLM_UNAVAILABLE = _code(
    "crew_llm_unavailable", 503, "The model endpoint the crew uses did not answer."
)
CREW_LLM_UNSUPPORTED = _code(
    "crew_llm_unsupported",
    400,
    "The crew's model needs a provider other than the server's own API.",
)
RUN_STOPPED = _code(
    "run_stopped", None, "A run ended before it finished (its client went away or it was stopped)."
)


_code = _area("accounts")
INVALID_CREDENTIALS = _code(
    "invalid_credentials",
    401,
    "Wrong email or password (the same answer for both, in the same time).",
)
TOKEN_EXPIRED = _code("token_expired", 401, "The access or refresh token has expired.")
TOKEN_INVALID = _code(
    "token_invalid", 401, "The token is malformed, forged, revoked or was already used."
)
KEY_REVOKED = _code("key_revoked", 401, "The API key was revoked.")
KEY_EXPIRED = _code("key_expired", 401, "The API key has passed its expiry.")
CSRF_FAILED = _code(
    "csrf_failed",
    403,
    "A cookie-authenticated change without the right `X-CSRF-Token` header, or a "
    "websocket opened from an origin that is not allowed.",
)
FORBIDDEN = _code(
    "forbidden", 403, "The caller is known but lacks the role or scope the action needs (named)."
)
ACCOUNT_LOCKED = _code(
    "account_locked", 429, "Too many failed logins: wait `Retry-After` seconds and try again."
)
EMAIL_TAKEN = _code("email_taken", 409, "An account with this email exists already.")
LAST_OWNER = _code(
    "last_owner", 409, "The workspace's last owner cannot leave it or stop being an owner."
)
USER_NOT_FOUND = _code("user_not_found", 404, "No such user (or member of this workspace).")
KEY_NOT_FOUND = _code("key_not_found", 404, "No such API key in this workspace.")
WORKSPACE_NOT_FOUND = _code(
    "workspace_not_found", 404, "No such workspace, or the caller is not one of its members."
)
ALREADY_MEMBER = _code("already_member", 409, "The invited email is a member already.")
INVITATION_INVALID = _code(
    "invitation_invalid",
    404,
    "No such invitation: unknown, revoked, expired or accepted already (one answer for all).",
)


def markdown() -> str:
    """The catalogue as the Markdown table kept in ``docs/errors.md``."""
    lines = [
        "# Error codes",
        "",
        "Every error a client can see carries one of these codes: in an HTTP error body",
        '(`{"error": {"message", "type", "param", "code"}}`), in a stream\'s `error` event, in',
        "a failed message's or run's `error.code`, or in a document's `error_code`. The",
        "status is the HTTP status when the error ends a request; `-` means the code only",
        "arrives inside a stream or a stored record. Generated from `agents/error_codes.py`",
        "(`python -m agents.error_codes > docs/errors.md`); a test keeps them equal.",
    ]
    area = ""
    for code in CATALOGUE.values():
        if code.area != area:
            area = code.area
            lines += ["", f"## {area}", "", "| code | status | meaning |", "| --- | --- | --- |"]
        status = "-" if code.status is None else str(code.status)
        lines.append(f"| `{code}` | {status} | {code.meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
