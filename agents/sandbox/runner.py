"""Runs the user's Python ``main`` inside the sandbox. Executed as a script, stdlib only.

Reads ``{"code": str, "inputs": dict}`` as JSON on stdin, runs ``main(**inputs)``
and writes one JSON message on fd 3: ``{"ok": true, "result": {...}}`` or
``{"ok": false, "kind": ..., "type": ..., "message": ..., "line": ...}``, where
``kind`` is ``syntax``, ``exception``, ``main_missing``, ``result`` or the name of
the limit the error reveals (``memory``, ``processes``, ``file_size``). What the code
prints goes to stdout untouched.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from typing import Any

RESULT_FD = 3
FILENAME = "<code>"
MAX_MESSAGE = 2000
_FILE_ERRNOS = (errno.EFBIG, errno.ENOSPC, errno.EDQUOT)


def _send(text: str) -> None:
    data = text.encode("utf-8", "replace")
    view = memoryview(data)
    while view:
        view = view[os.write(RESULT_FD, view) :]


def _user_line(exc: BaseException) -> int | None:
    if isinstance(exc, SyntaxError) and exc.filename == FILENAME:
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _kind(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, OSError) and exc.errno in _FILE_ERRNOS:
        return "file_size"
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN:
        return "processes"  # fork/clone refused by RLIMIT_NPROC
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return "processes"
    return "exception"


def _failure(kind: str, exc: BaseException) -> dict[str, Any]:
    text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {
        "ok": False,
        "kind": kind,
        "type": type(exc).__name__,
        "message": text[:MAX_MESSAGE],
        "line": _user_line(exc),
    }


def _invalid(message: str) -> dict[str, Any]:
    return {"ok": False, "kind": "result", "type": None, "message": message, "line": None}


def run(code: str, inputs: dict[str, Any]) -> str:
    """Compile and run ``code``, call its ``main``; the JSON message to send back."""
    message = _call(code, inputs)
    if isinstance(message, str):
        return message
    return json.dumps(message, ensure_ascii=False)


def _call(code: str, inputs: dict[str, Any]) -> dict[str, Any] | str:
    try:
        compiled = compile(code, FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return _failure("syntax", exc)
    namespace: dict[str, Any] = {"__name__": "__code__", "__builtins__": __builtins__}
    try:
        exec(compiled, namespace)
        main = namespace.get("main")
        if not callable(main):
            return {
                "ok": False,
                "kind": "main_missing",
                "type": None,
                "message": "the code does not define a function main(**inputs)",
                "line": None,
            }
        result = main(**inputs)
        if hasattr(type(result), "__await__"):  # an async main
            import asyncio

            async def _wait() -> Any:
                return await result

            result = asyncio.run(_wait())
    except BaseException as exc:  # noqa: B036 - user code may raise anything, SystemExit too
        return _failure(_kind(exc), exc)
    if not isinstance(result, dict):
        return _invalid(f"main() must return a dict, got {type(result).__name__}")
    try:
        text = json.dumps(result, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return _invalid(f"main() returned a dict that is not JSON: {exc}")
    return '{"ok": true, "result": ' + text + "}"


def main() -> None:
    own_pid = os.getpid()
    payload = json.loads(sys.stdin.buffer.read())
    sys.path[:0] = payload.get("paths", [])  # the packages the server allows, read-only
    message = run(payload["code"], payload["inputs"])
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if os.getpid() == own_pid:  # a process the code forked may come back here too
        _send(message)
    os._exit(0)  # do not wait for threads or atexit handlers the code left behind


if __name__ == "__main__":
    main()
