"""What this host offers the sandbox: interpreters, their files, and whether it can isolate.

Everything here is discovered once per process and cached; the calls block (they
run ``ldd`` and a probe sandbox), so async code calls them through
``asyncio.to_thread``.
"""

from __future__ import annotations

import functools
import json
import marshal
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog

from agents.sandbox import seccomp
from agents.sandbox.entities import SandboxLimits

log = structlog.get_logger(__name__)

Language = Literal["python3", "javascript"]

PACKAGE_DIR = Path(__file__).resolve().parent
LAUNCHER = PACKAGE_DIR / "launcher.py"
RUNNER_DIR = "/sandbox"
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
UNSHARE_FLAGS = (
    "--mount",
    "--uts",
    "--ipc",
    "--net",
    "--pid",
    "--cgroup",
    "--fork",
    "--kill-child",
    "--propagation",
    "private",
)
#: Address space V8 reserves up front (code range, heap cages) beyond the heap itself.
NODE_RESERVED_MB = 1024
#: Each run gets a fresh uid and gid drawn from [base, base + span).
RUN_UID_BASE = 1_000_000_000
RUN_UID_SPAN = 1_000_000_000


@dataclass(frozen=True)
class Interpreter:
    """How to start one language's runner, and the host paths it needs to see."""

    language: Language
    executable: str
    flags: tuple[str, ...]
    runner: Path
    mirror: tuple[str, ...]
    masks: tuple[str, ...] = ()

    def argv(self, *, isolate: bool, limits: SandboxLimits) -> list[str]:
        runner = f"{RUNNER_DIR}/{self.runner.name}" if isolate else str(self.runner)
        extra = (
            [f"--max-old-space-size={limits.memory_mb}"] if self.language == "javascript" else []
        )
        return [self.executable, *self.flags, *extra, runner]


#: Where allowed third-party Python packages appear inside the sandbox (read-only).
PACKAGES_DIR = "/opt/packages"


def package_paths(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name inside the sandbox, host path) of each importable top-level package or module
    (``json_repair`` -> the venv's ``json_repair/`` directory); a missing one is an error."""
    import importlib.util

    found: list[tuple[str, str]] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ValueError(f"the sandbox package {name!r} is not installed on this server")
        origin = Path(spec.origin)
        found.append(
            (origin.parent.name, str(origin.parent))
            if origin.name == "__init__.py"
            else (origin.name, str(origin))
        )
    return tuple(found)


def base_python() -> str:
    """The interpreter under the server's virtualenv, which sees the stdlib only."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _shared_library_paths(binaries: list[str]) -> list[str]:
    """Directories of the shared libraries ``binaries`` load, and the dynamic loader."""
    ldd = shutil.which("ldd")
    if ldd is None:
        log.warning("sandbox_ldd_missing")
        return [p for p in ("/lib", "/lib64", "/usr/lib", "/usr/lib64") if os.path.exists(p)]
    out = subprocess.run(
        [ldd, *binaries], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    paths: set[str] = set()
    for raw in out.splitlines():
        line = raw.strip()
        if "=>" in line:
            path = line.split("=>", 1)[1].split(" (", 1)[0].strip()
            if path.startswith("/") and os.path.exists(path):
                paths.add(os.path.dirname(path))
        elif line.startswith("/") and " (" in line:
            paths.add(line.split(" (", 1)[0])  # the loader itself
    return sorted(paths)


@functools.cache
def python_interpreter() -> Interpreter:
    executable = base_python()
    stdlib = os.path.dirname(os.__file__)
    dynload = Path(stdlib) / "lib-dynload"
    modules = sorted(str(p) for p in dynload.glob("*.so")) if dynload.is_dir() else []
    masks = tuple(
        os.path.join(stdlib, name)
        for name in ("site-packages", "dist-packages")
        if os.path.isdir(os.path.join(stdlib, name))
    )
    return Interpreter(
        language="python3",
        executable=executable,
        flags=("-I", "-S", "-B", "-X", "utf8"),
        runner=PACKAGE_DIR / "runner.py",
        mirror=(executable, stdlib, *_shared_library_paths([executable, *modules])),
        masks=masks,
    )


@functools.cache
def node_interpreter() -> Interpreter | None:
    node = shutil.which("node") or ("/usr/bin/node" if os.path.exists("/usr/bin/node") else None)
    if node is None:
        return None
    return Interpreter(
        language="javascript",
        executable=node,
        flags=("--no-warnings",),
        runner=PACKAGE_DIR / "runner.js",
        mirror=(node, *_shared_library_paths([node])),
    )


def interpreter(language: Language) -> Interpreter | None:
    return python_interpreter() if language == "python3" else node_interpreter()


def _rlimits(limits: SandboxLimits, language: Language, isolate: bool) -> list[list[Any]]:
    cpu = math.ceil(limits.cpu_seconds)
    memory_mb = limits.memory_mb + (NODE_RESERVED_MB if language == "javascript" else 0)
    memory = memory_mb * 1024 * 1024
    file_size = limits.max_file_mb * 1024 * 1024
    rlimits: list[list[Any]] = [
        ["RLIMIT_CPU", cpu, cpu + 1],
        ["RLIMIT_AS", memory, memory],
        ["RLIMIT_NOFILE", limits.max_open_files, limits.max_open_files],
        ["RLIMIT_FSIZE", file_size, file_size],
        ["RLIMIT_CORE", 0, 0],
    ]
    if isolate:  # counted per uid: only meaningful with the run's own uid
        rlimits.append(["RLIMIT_NPROC", limits.max_processes, limits.max_processes])
    return rlimits


def launcher_config(
    *,
    runner: Interpreter,
    argv: list[str],
    limits: SandboxLimits,
    isolate: bool,
    root: Path,
    result_fd: int,
    status_fd: int,
    packages: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """What the launcher reads: what to mount, which limits, what to execute."""
    uid = RUN_UID_BASE + secrets.randbelow(RUN_UID_SPAN)
    use_seccomp = isolate and seccomp.supported()
    return {
        "isolate": isolate,
        "root": str(root),
        "mirror": list(runner.mirror),
        "masks": list(runner.masks),
        "binds": [[f"{RUNNER_DIR}/{runner.runner.name}", str(runner.runner)]]
        + [[f"{PACKAGES_DIR}/{name}", path] for name, path in packages],
        "devices": [d for d in DEVICES if os.path.exists(d)],
        "scratch_bytes": limits.max_file_mb * 1024 * 1024,
        "uid": uid,
        "gid": uid,
        "rlimits": _rlimits(limits, runner.language, isolate),
        "argv": argv,
        "cwd": "/tmp" if isolate else str(root),
        "result_fd": result_fd,
        "status_fd": status_fd,
        "seccomp": seccomp.deny_list_filter().hex() if use_seccomp else "",
    }


def launcher_argv(config: dict[str, Any]) -> list[str]:
    """The command that starts the launcher, inside fresh namespaces when isolating."""
    # marshal: the launcher runs the same interpreter, and importing json there costs 10 ms
    command = [base_python(), "-I", "-S", str(LAUNCHER), marshal.dumps(config).hex()]
    if not config["isolate"]:
        return command
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    return [unshare, *UNSHARE_FLAGS, "--", *command]


def _probe() -> str | None:
    """Why this host cannot isolate, or None when a probe sandbox ran fine."""
    if platform.system() != "Linux":
        return "not Linux"
    if os.geteuid() != 0:
        return "not running as root"
    if shutil.which("unshare") is None and not os.path.exists("/usr/bin/unshare"):
        return "unshare(1) not found"
    python = python_interpreter()
    argv = [python.executable, "-I", "-S", "-c", "pass"]
    with tempfile.TemporaryDirectory(prefix="chorus-sandbox-probe-") as root:
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        config = launcher_config(
            runner=python,
            argv=argv,
            limits=SandboxLimits(),
            isolate=True,
            root=Path(root),
            result_fd=result_w,
            status_fd=status_w,
        )
        try:
            done = subprocess.run(
                launcher_argv(config),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                pass_fds=(result_w, status_w),
                env={},
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"probe failed to start: {exc}"
        finally:
            os.close(result_w)
            os.close(status_w)
            os.close(result_r)
        with os.fdopen(status_r, "rb") as status_file:
            status = status_file.read().decode(errors="replace").strip()
    if done.returncode != 0 or not status:
        stderr = done.stderr.decode(errors="replace").strip()[-300:]
        return f"probe exited with {done.returncode}: {stderr or status}"
    last = json.loads(status.splitlines()[-1])
    if last.get("exit_code") != 0:
        return f"probe sandbox failed: {status[-300:]}"
    return None


_probe_lock = threading.Lock()


@functools.cache
def _probe_once() -> str | None:
    try:
        problem = _probe()
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot isolate"
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        log.warning("sandbox_isolation_unavailable", reason=problem)
    return problem


def isolation_problem() -> str | None:
    """Why this host cannot isolate code, or None when it can (probed once per process)."""
    with _probe_lock:
        return _probe_once()
