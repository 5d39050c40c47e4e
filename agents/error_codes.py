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


# -- general -------------------------------------------------------------------------------
_AREA = "general"
INTERNAL_ERROR = ErrorCode(
    "internal_error", _AREA, 500, "An unexpected failure; the server log has the details."
)
INVALID_REQUEST = ErrorCode(
    "invalid_request",
    _AREA,
    400,
    "The request is malformed or breaks a rule; `param` names the field.",
)
REQUEST_TOO_LARGE = ErrorCode(
    "request_too_large", _AREA, 400, "The request body is over the server's size limit."
)
UNAUTHORIZED = ErrorCode("unauthorized", _AREA, 401, "The caller is not authenticated.")
NOT_FOUND = ErrorCode(
    "not_found", _AREA, 404, "The thing asked for does not exist (or belongs to another workspace)."
)
RATE_LIMITED = ErrorCode(
    "rate_limited", _AREA, 429, "Too many requests; retry after the time the response gives."
)
TIMEOUT = ErrorCode("timeout", _AREA, 504, "An operation did not finish in its time limit.")
SERVICE_UNAVAILABLE = ErrorCode(
    "service_unavailable",
    _AREA,
    503,
    "This server does not run a service the request needs (e.g. crews, workflows).",
)
STORE_UNAVAILABLE = ErrorCode(
    "store_unavailable", _AREA, 503, "The database is unreachable or locked; retry shortly."
)
URL_BLOCKED = ErrorCode(
    "url_blocked",
    _AREA,
    400,
    "The outbound-fetch guard refused the URL (a private, loopback, link-local or "
    "metadata address, or a scheme other than http and https).",
)

# -- models --------------------------------------------------------------------------------
_AREA = "models"
MODEL_NOT_FOUND = ErrorCode(
    "model_not_found", _AREA, 404, "The server serves no model of that name."
)
CONTEXT_LENGTH_EXCEEDED = ErrorCode(
    "context_length_exceeded",
    _AREA,
    400,
    "The prompt does not fit in the model's context window; `details.excess_tokens` "
    "says by how much.",
)
UPSTREAM_ERROR = ErrorCode(
    "upstream_error", _AREA, 502, "A model server answered with something unusable."
)
ENGINE_UNAVAILABLE = ErrorCode(
    "engine_unavailable",
    _AREA,
    503,
    "A model server (chat or embedding) is down or restarting; retry after `Retry-After`.",
)

# -- apps and conversations ----------------------------------------------------------------
_AREA = "apps and conversations"
APP_NOT_FOUND = ErrorCode("app_not_found", _AREA, 404, "No such app in this workspace.")
APP_NOT_PUBLISHED = ErrorCode(
    "app_not_published",
    _AREA,
    400,
    "The app has no published version; publish it or use debug chat.",
)
VERSION_NOT_FOUND = ErrorCode("version_not_found", _AREA, 404, "The app has no such version.")
CONVERSATION_NOT_FOUND = ErrorCode(
    "conversation_not_found",
    _AREA,
    404,
    "No such conversation in this workspace (or it was deleted).",
)
MESSAGE_NOT_FOUND = ErrorCode("message_not_found", _AREA, 404, "No such message.")
DUPLICATE_MESSAGE = ErrorCode(
    "duplicate_message", _AREA, 400, "A message with that sequence number is already stored."
)
TURN_IN_PROGRESS = ErrorCode(
    "turn_in_progress",
    _AREA,
    None,
    "An answer is still streaming; stop it or wait for `message_end`.",
)
SESSION_INTERRUPTED = ErrorCode(
    "session_interrupted",
    _AREA,
    None,
    "The conversation's session restarted mid-answer; send the message again.",
)
SESSION_UNAVAILABLE = ErrorCode(
    "session_unavailable",
    _AREA,
    503,
    "The conversation's session shard is restarting; retry shortly.",
)
INTERRUPTED = ErrorCode(
    "interrupted",
    _AREA,
    None,
    "A stored answer whose session restarted before it finished (its status is `failed`).",
)
KNOWLEDGE_UNAVAILABLE = ErrorCode(
    "knowledge_unavailable",
    _AREA,
    None,
    "The app uses knowledge bases, but this process has no knowledge service.",
)

# -- websocket frames ----------------------------------------------------------------------
_AREA = "websocket"
MESSAGE_TOO_LARGE = ErrorCode(
    "message_too_large", _AREA, None, "A frame is over the server's message size limit."
)
INVALID_JSON = ErrorCode("invalid_json", _AREA, None, "A frame is not valid JSON.")
INVALID_FRAME = ErrorCode(
    "invalid_frame",
    _AREA,
    None,
    "A frame does not match the protocol; the message names the field.",
)
NO_TURN_RUNNING = ErrorCode(
    "no_turn_running", _AREA, None, "`stop` arrived while no answer was streaming."
)
UNKNOWN_FRAME = ErrorCode(
    "unknown_frame", _AREA, None, "A frame's `type` is not one the protocol knows."
)
NO_CONVERSATION = ErrorCode(
    "no_conversation", _AREA, None, "A `message` arrived before a `start` or `resume` frame."
)

# -- knowledge -----------------------------------------------------------------------------
_AREA = "knowledge"
KB_NOT_FOUND = ErrorCode("kb_not_found", _AREA, 404, "No such knowledge base in this workspace.")
DOCUMENT_NOT_FOUND = ErrorCode(
    "document_not_found", _AREA, 404, "No such document in the knowledge base."
)
INDEX_UNAVAILABLE = ErrorCode(
    "index_unavailable",
    _AREA,
    503,
    "The knowledge index (LanceDB or Weaviate) failed or is unreachable; retry shortly.",
)
DOCUMENT_UNREADABLE = ErrorCode(
    "document_unreadable", _AREA, None, "A document's error: its file could not be parsed."
)
UNSUPPORTED_TYPE = ErrorCode(
    "unsupported_type",
    _AREA,
    None,
    "A document's error: its file type is not one the server reads.",
)
EMPTY_DOCUMENT = ErrorCode(
    "empty_document", _AREA, None, "A document's error: the file holds no text."
)
ENCRYPTED = ErrorCode(
    "encrypted", _AREA, None, "A document's error: the file is password-protected."
)
TOO_LARGE = ErrorCode(
    "too_large", _AREA, None, "A document's error: the file is over the upload size limit."
)
SOURCE_MISSING = ErrorCode(
    "source_missing",
    _AREA,
    None,
    "A document's error: its uploaded file is gone, so it cannot be re-indexed.",
)

# -- workflows -----------------------------------------------------------------------------
_AREA = "workflows"
WORKFLOW_NOT_FOUND = ErrorCode(
    "workflow_not_found", _AREA, 404, "No such workflow in this workspace."
)
RUN_NOT_FOUND = ErrorCode(
    "run_not_found", _AREA, 404, "No such run (of a workflow or a crew) in this workspace."
)
WORKFLOW_INVALID = ErrorCode(
    "workflow_invalid",
    _AREA,
    400,
    "The graph is wrong; `details.errors` lists each node and field.",
)
WORKFLOW_INPUT_INVALID = ErrorCode(
    "workflow_input_invalid", _AREA, 400, "A run's inputs do not match the start node."
)
NODE_FAILED = ErrorCode(
    "node_failed", _AREA, 422, "A node failed (the generic code of a node's failure)."
)
NODE_CRASHED = ErrorCode("node_crashed", _AREA, 422, "A node raised an unexpected exception.")
NODE_TIMEOUT = ErrorCode("node_timeout", _AREA, 422, "A node did not finish within its timeout.")
VARIABLE_NOT_FOUND = ErrorCode(
    "variable_not_found", _AREA, 422, "A node read a variable that has no value."
)
CONDITION_TYPE_ERROR = ErrorCode(
    "condition_type_error",
    _AREA,
    422,
    "An if/else condition compared values of the wrong type, or used an unknown operator.",
)
ITERATION_INPUT_INVALID = ErrorCode(
    "iteration_input_invalid",
    _AREA,
    422,
    "An iteration node's input is not a list, or is too long.",
)
TEMPLATE_ERROR = ErrorCode("template_error", _AREA, 422, "A template transform failed to render.")
TEMPLATE_OUTPUT_TOO_LONG = ErrorCode(
    "template_output_too_long", _AREA, 422, "A template transform's output is over its limit."
)
HTTP_BODY_INVALID = ErrorCode(
    "http_body_invalid", _AREA, 422, "An HTTP request node's body could not be built."
)
HTTP_STATUS_ERROR = ErrorCode(
    "http_status_error", _AREA, 422, "An HTTP request node's call answered with an error status."
)
LLM_OUTPUT_INVALID = ErrorCode(
    "llm_output_invalid",
    _AREA,
    422,
    "A model's structured output did not parse or match its schema.",
)
CODE_ERROR = ErrorCode(
    "code_error", _AREA, 422, "User code raised an exception or exited with an error."
)
CODE_RESULT_INVALID = ErrorCode(
    "code_result_invalid",
    _AREA,
    422,
    "User code returned something other than the declared outputs.",
)
CODE_LIMIT_EXCEEDED = ErrorCode(
    "code_limit_exceeded",
    _AREA,
    422,
    "User code went over a sandbox limit (CPU, memory, wall time, output).",
)
SANDBOX_UNAVAILABLE = ErrorCode(
    "sandbox_unavailable",
    _AREA,
    503,
    "This machine cannot isolate user code, so code nodes and run_code are refused "
    "(see docs/security.md).",
)

# -- tools ---------------------------------------------------------------------------------
_AREA = "tools"
TOOL_NOT_FOUND = ErrorCode("tool_not_found", _AREA, 404, "No tool of that name in the workspace.")
TOOL_PROVIDER_NOT_FOUND = ErrorCode(
    "tool_provider_not_found", _AREA, 404, "No such tool provider in this workspace."
)
TOOL_ARGUMENTS_INVALID = ErrorCode(
    "tool_arguments_invalid",
    _AREA,
    400,
    "A tool's arguments do not match its schema; `param` names the field.",
)
TOOL_FAILED = ErrorCode("tool_failed", _AREA, 502, "A tool failed while running.")
TOOL_HTTP_ERROR = ErrorCode(
    "tool_http_error", _AREA, 502, "A tool's HTTP call answered with an error status."
)
OPENAPI_INVALID = ErrorCode("openapi_invalid", _AREA, 400, "The OpenAPI document cannot be read.")
OPENAPI_NO_TOOLS = ErrorCode(
    "openapi_no_tools",
    _AREA,
    400,
    "No operation of the OpenAPI document could be imported; `details.report` says why.",
)
OPENAPI_FETCH_FAILED = ErrorCode(
    "openapi_fetch_failed",
    _AREA,
    400,
    "Fetching the OpenAPI document answered with an error status.",
)
SECRET_KEY_INVALID = ErrorCode(
    "secret_key_invalid", _AREA, 500, "The server's secret-encryption key is unusable."
)
SECRET_UNDECRYPTABLE = ErrorCode(
    "secret_undecryptable", _AREA, 500, "A stored credential was sealed with another key."
)

# -- crews ---------------------------------------------------------------------------------
_AREA = "crews"
CREW_NOT_FOUND = ErrorCode("crew_not_found", _AREA, 404, "No such crew in this workspace.")
CREW_SPEC_INVALID = ErrorCode(
    "crew_spec_invalid", _AREA, 400, "The crew is not valid; the message names the field."
)
CREW_FAILED = ErrorCode("crew_failed", _AREA, 502, "The crew failed while running.")
CREW_LLM_UNAVAILABLE = ErrorCode(
    "crew_llm_unavailable", _AREA, 503, "The model endpoint the crew uses did not answer."
)
CREW_LLM_UNSUPPORTED = ErrorCode(
    "crew_llm_unsupported",
    _AREA,
    400,
    "The crew's model would need a provider other than the server's own OpenAI API.",
)
RUN_STOPPED = ErrorCode(
    "run_stopped",
    _AREA,
    None,
    "A run ended before it finished (its client went away or it was stopped).",
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
