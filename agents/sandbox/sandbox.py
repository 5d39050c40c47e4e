"""Runs untrusted Python or JavaScript ``main`` functions in an isolated process.

See ``docs/security.md`` ("Code sandbox") for the layers and what they stop. This
module is the parent side: it starts the launcher, feeds the code and inputs on
stdin, reads stdout, stderr, the result pipe and the status pipe while counting
bytes, enforces the wall-clock and output limits by killing the whole process
group, and turns what happened into a :class:`SandboxResult` or a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from agents.errors import ChorusError, InvalidInputError
from agents.sandbox import host
from agents.sandbox.entities import SandboxLimits, SandboxResult
from agents.sandbox.errors import (
    CodeExecutionError,
    CodeResultError,
    LimitName,
    SandboxLimitError,
    SandboxUnavailableError,
)
from agents.sandbox.host import Language

log = structlog.get_logger(__name__)

_CHUNK = 64 * 1024
_STDERR_KEEP = 8 * 1024
_STATUS_MAX = 64 * 1024
_KILL_GRACE_SECONDS = 5.0
_LIMIT_KINDS: dict[str, LimitName] = {
    "memory": "memory",
    "processes": "processes",
    "file_size": "file_size",
}
_MEMORY_MARKERS = ("out of memory", "process oom", "memoryerror", "cannot allocate memory")


class _Budget:
    """Bytes the code may still write; trips an event when overdrawn."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.exceeded = asyncio.Event()

    def take(self, n: int) -> bool:
        self.left -= n
        if self.left < 0:
            self.exceeded.set()
        return self.left >= 0


@dataclass
class _Outcome:
    killed_for: LimitName | None = None
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    result: bytearray = field(default_factory=bytearray)
    status: bytearray = field(default_factory=bytearray)

    def statuses(self) -> list[dict[str, Any]]:
        found = []
        for line in self.status.decode(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return [s for s in found if isinstance(s, dict)]


async def _drain(
    reader: asyncio.StreamReader, sink: bytearray, budget: _Budget | None, keep: int | None
) -> None:
    while chunk := await reader.read(_CHUNK):
        if budget is not None and not budget.take(len(chunk)):
            continue  # over budget: keep draining to EOF while the group is killed
        sink += chunk
        if keep is not None and len(sink) > keep:
            del sink[: len(sink) - keep]


async def _pipe_reader(fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_CHUNK)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, transport


async def _feed(stdin: asyncio.StreamWriter, payload: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(payload)
        await stdin.drain()
        stdin.close()
        await stdin.wait_closed()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class CodeSandbox:
    """Runs one ``main`` per call, each in its own throw-away sandbox.

    ``scratch_root`` is where each run's mount point is created (and removed after).
    ``allow_unisolated=True`` lets code run WITHOUT isolation — same interpreter,
    rlimits only, full access to the host's files and network — when this host
    cannot isolate. It is for development machines only; never enable it where
    the code comes from someone you do not trust.
    """

    def __init__(
        self,
        *,
        scratch_root: Path | None = None,
        allow_unisolated: bool = False,
        python_packages: tuple[str, ...] = (),
    ) -> None:
        """``python_packages``: third-party packages of the server's environment that
        Python code may import (each mounted read-only; nothing else of the venv is
        visible). Pure-Python ones only: a compiled one may need libraries not mirrored."""
        self._scratch_root = scratch_root or Path(tempfile.gettempdir(), "chorus-sandbox")
        self._allow_unisolated = allow_unisolated
        self._packages = host.package_paths(tuple(python_packages))

    @staticmethod
    def available() -> bool:
        """Whether this machine can isolate code (probed once per process; blocks)."""
        return host.isolation_problem() is None

    async def run(
        self,
        language: Language,
        code: str,
        inputs: dict[str, Any],
        limits: SandboxLimits | None = None,
    ) -> SandboxResult:
        """Run ``code``'s ``main`` with ``inputs`` and return what it returned.

        Raises :class:`CodeExecutionError`, :class:`CodeResultError`,
        :class:`SandboxLimitError` or :class:`SandboxUnavailableError`.
        """
        limits = limits or SandboxLimits()
        if language not in ("python3", "javascript"):
            raise InvalidInputError(f"unsupported code language {language!r}", param="language")
        isolate = await asyncio.to_thread(self.available)
        packages = self._packages if language == "python3" else ()
        paths = (
            [host.PACKAGES_DIR]
            if isolate and packages
            else sorted({str(Path(path).parent) for _, path in packages})
        )
        try:
            payload = json.dumps(
                {"code": code, "inputs": inputs, "paths": paths}, allow_nan=False
            ).encode()
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"code inputs must be JSON-serialisable: {exc}", param="inputs"
            ) from exc
        if not isolate and not self._allow_unisolated:
            raise SandboxUnavailableError(
                "this server cannot isolate user code, so code nodes are disabled",
                details={"reason": host.isolation_problem()},
            )
        runner = await asyncio.to_thread(host.interpreter, language)
        if runner is None:
            raise SandboxUnavailableError(
                f"no {language} runtime on this server", details={"language": language}
            )
        root = self._scratch_root / f"run-{secrets.token_hex(8)}"
        await asyncio.to_thread(root.mkdir, mode=0o700, parents=True)
        started = time.monotonic()
        try:
            outcome = await self._execute(runner, payload, limits, isolate, root, packages)
        finally:
            await asyncio.to_thread(shutil.rmtree, root, True)
        elapsed_ms = (time.monotonic() - started) * 1000
        result = _judge(outcome, language, limits)
        log.debug("sandbox_run_finished", language=language, ms=round(elapsed_ms, 1))
        return SandboxResult(
            result=result,
            stdout=outcome.stdout.decode("utf-8", errors="replace"),
            elapsed_ms=elapsed_ms,
        )

    async def _execute(
        self,
        runner: host.Interpreter,
        payload: bytes,
        limits: SandboxLimits,
        isolate: bool,
        root: Path,
        packages: tuple[tuple[str, str], ...] = (),
    ) -> _Outcome:
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        config = host.launcher_config(
            runner=runner,
            argv=runner.argv(isolate=isolate, limits=limits),
            limits=limits,
            isolate=isolate,
            root=root,
            result_fd=result_w,
            status_fd=status_w,
            packages=packages if isolate else (),
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                *host.launcher_argv(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(result_w, status_w),
                env={},
                start_new_session=True,
            )
        except OSError as exc:
            os.close(result_r)
            os.close(status_r)
            raise SandboxUnavailableError("the code sandbox could not start") from exc
        finally:
            os.close(result_w)
            os.close(status_w)
        assert proc.stdin and proc.stdout and proc.stderr
        outcome = _Outcome()
        budget = _Budget(limits.max_output_bytes)
        result_reader, result_transport = await _pipe_reader(result_r)
        status_reader, status_transport = await _pipe_reader(status_r)
        feeding = asyncio.create_task(_feed(proc.stdin, payload))
        finished = asyncio.ensure_future(
            asyncio.gather(
                _drain(proc.stdout, outcome.stdout, budget, None),
                _drain(proc.stderr, outcome.stderr, budget, _STDERR_KEEP),
                _drain(result_reader, outcome.result, budget, None),
                _drain(status_reader, outcome.status, None, _STATUS_MAX),
                proc.wait(),
            )
        )
        overdrawn = asyncio.create_task(budget.exceeded.wait())
        waiting: set[asyncio.Future[Any]] = {finished, overdrawn}
        try:
            done, _ = await asyncio.wait(
                waiting, timeout=limits.wall_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if budget.exceeded.is_set():
                outcome.killed_for = "output"
            elif finished not in done:
                outcome.killed_for = "wall_time"
        finally:
            # Over a limit, or the caller gave up: kill, and keep draining the pipes to EOF
            # (a paused pipe would keep proc.wait() from ever returning).
            if not finished.done() or not isolate:
                _kill_group(proc.pid)
            try:
                await asyncio.wait_for(asyncio.shield(finished), _KILL_GRACE_SECONDS)
            except TimeoutError:
                log.error("sandbox_kill_timeout", pid=proc.pid)
            except Exception:  # noqa: BLE001 - the run's own failure is judged later
                pass
            for task in (finished, overdrawn, feeding):
                task.cancel()
            await asyncio.gather(finished, overdrawn, feeding, return_exceptions=True)
            result_transport.close()
            status_transport.close()
        return outcome


def _judge(outcome: _Outcome, language: Language, limits: SandboxLimits) -> dict[str, Any]:
    """The result ``main`` returned, or the typed error that explains why there is none."""
    details: dict[str, Any] = {"language": language}
    if outcome.killed_for is not None:
        raise _limit_error(outcome.killed_for, limits, details)
    statuses = outcome.statuses()
    for reported in statuses:
        if "setup_error" in reported:
            log.error("sandbox_setup_failed", error=reported["setup_error"])
            raise SandboxUnavailableError("the code sandbox could not start", details=details)
    message = _parse_message(bytes(outcome.result))
    if message is not None:
        return _from_message(message, limits, details)
    status = statuses[-1] if statuses else None
    if status is None:
        log.error("sandbox_no_status", stderr=outcome.stderr[-500:].decode(errors="replace"))
        raise ChorusError("the code sandbox failed unexpectedly")
    stderr = outcome.stderr.decode("utf-8", errors="replace")
    sig = status.get("signal")
    cpu_used = float(status.get("cpu_seconds") or 0.0)
    if sig == signal.SIGXCPU or (
        sig == signal.SIGKILL and cpu_used >= math.ceil(limits.cpu_seconds) - 0.05
    ):
        raise _limit_error("cpu", limits, details)
    if any(marker in stderr.lower() for marker in _MEMORY_MARKERS):
        raise _limit_error("memory", limits, details)
    last_line = next((ln for ln in reversed(stderr.splitlines()) if ln.strip()), "")
    if sig is not None:
        how = f"was killed by {signal.Signals(sig).name}" if sig in signal.valid_signals() else ""
        how = how or f"was killed by signal {sig}"
    else:
        how = f"exited with status {status.get('exit_code')}"
    text = f"the code {how} before main returned"
    raise CodeExecutionError(
        f"{text}: {last_line[:500]}" if last_line else text,
        details={**details, "exit_code": status.get("exit_code"), "signal": sig},
    )


def _parse_message(data: bytes) -> dict[str, Any] | None:
    if not data:
        return None
    try:
        message = json.loads(data, parse_constant=_reject_constant)
    except ValueError:
        return None
    return message if isinstance(message, dict) and "ok" in message else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _from_message(
    message: dict[str, Any], limits: SandboxLimits, details: dict[str, Any]
) -> dict[str, Any]:
    if message["ok"] is True:
        result = message.get("result")
        if not isinstance(result, dict):
            raise CodeResultError("main() must return a JSON object", details=details)
        return result
    kind = str(message.get("kind"))
    text = str(message.get("message") or "")
    if kind in _LIMIT_KINDS:
        raise _limit_error(_LIMIT_KINDS[kind], limits, {**details, "error": text[:500]})
    if kind in ("main_missing", "result"):
        raise CodeResultError(text or "main() returned an invalid result", details=details)
    error_type = message.get("type") or "Error"
    line = message.get("line")
    where = f" (line {line})" if isinstance(line, int) else ""
    raise CodeExecutionError(
        f"{error_type}: {text}{where}",
        details={**details, "type": error_type, "line": line if isinstance(line, int) else None},
    )


_LIMIT_TEXT: dict[LimitName, str] = {
    "cpu": "the code used more than {cpu} s of CPU time",
    "memory": "the code ran out of memory ({memory} MiB)",
    "wall_time": "the code ran longer than {wall} s",
    "output": "the code wrote more than {output} bytes",
    "processes": "the code started more than {processes} processes or threads",
    "file_size": "the code wrote more than {files} MiB of files",
}


def _limit_error(
    limit: LimitName, limits: SandboxLimits, details: dict[str, Any]
) -> SandboxLimitError:
    text = _LIMIT_TEXT[limit].format(
        cpu=math.ceil(limits.cpu_seconds),
        memory=limits.memory_mb,
        wall=limits.wall_seconds,
        output=limits.max_output_bytes,
        processes=limits.max_processes,
        files=limits.max_file_mb,
    )
    return SandboxLimitError(text, limit=limit, details=details)
