"""The code sandbox runs real interpreters in real namespaces; each test takes well under 2 s."""

from __future__ import annotations

import asyncio
import pickle
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from agents.sandbox import (
    CodeExecutionError,
    CodeResultError,
    CodeSandbox,
    SandboxLimitError,
    SandboxLimits,
    SandboxUnavailableError,
)
from agents.sandbox import host as sandbox_host

REPO_ROOT = Path(__file__).resolve().parents[4]
ISOLATED = CodeSandbox.available()
needs_isolation = pytest.mark.skipif(
    not ISOLATED,
    reason="this machine cannot isolate code (the sandbox needs root and unshare "
    f"namespaces, see docs/security.md): {sandbox_host.isolation_problem()}",
)
NO_NODE = "Node.js is not installed (`make install` installs it): JavaScript cannot run"
needs_node = pytest.mark.skipif(sandbox_host.node_interpreter() is None, reason=NO_NODE)
FAST = SandboxLimits(cpu_seconds=1, wall_seconds=5)


@pytest.fixture
def sandbox(tmp_path: Path) -> CodeSandbox:
    return CodeSandbox(scratch_root=tmp_path / "scratch")


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP port listening on the host's loopback, which the sandbox must not reach."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def _sandbox_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info["uids"]
        if uids is not None and uids.real >= sandbox_host.RUN_UID_BASE:
            found.append(proc)
    return found


# --- the contract: inputs in, a JSON object and stdout out ---------------------------


@needs_isolation
async def test_python_main_gets_inputs_as_keywords_and_print_is_captured(
    sandbox: CodeSandbox, tmp_path: Path
) -> None:
    code = "def main(a, b):\n    print('adding', a, b)\n    return {'sum': a + b, 'text': 'é'}\n"
    out = await sandbox.run("python3", code, {"a": 2, "b": 3})
    assert out.result == {"sum": 5, "text": "é"}
    assert out.stdout == "adding 2 3\n"
    assert out.elapsed_ms > 0
    assert list((tmp_path / "scratch").iterdir()) == []  # run directories are removed


@needs_isolation
async def test_allowed_packages_import_and_nothing_else_of_the_venv(tmp_path: Path) -> None:
    sandbox = CodeSandbox(scratch_root=tmp_path / "runs", python_packages=("json_repair",))
    code = """
import os, json_repair
def main(text):
    try:
        import pydantic
        other = "imported"
    except ImportError as exc:
        other = type(exc).__name__
    return {"fixed": json_repair.repair_json(text), "other": other,
            "visible": os.listdir("/opt/packages")}
"""
    out = await sandbox.run("python3", code, {"text": "{'a': 1,"})
    assert out.result == {"fixed": '{"a": 1}', "other": "ModuleNotFoundError",
                          "visible": ["json_repair"]}  # fmt: skip
    with pytest.raises(ValueError, match="not installed"):
        CodeSandbox(python_packages=("no_such_package_here",))


@needs_isolation
@needs_node
@pytest.mark.parametrize(
    "code",
    [
        "function main(inputs) { console.log('adding'); return {sum: inputs.a + inputs.b}; }",
        "function main({a, b}) { console.log('adding'); return {sum: a + b}; }",
        "const main = async ({a, b}) => { console.log('adding'); return {sum: a + b}; };",
    ],
)
async def test_javascript_main_gets_one_inputs_object(sandbox: CodeSandbox, code: str) -> None:
    out = await sandbox.run("javascript", code, {"a": 2, "b": 3})
    assert out.result == {"sum": 5}
    assert out.stdout == "adding\n"


@needs_isolation
async def test_python_exception_names_type_message_and_user_line(sandbox: CodeSandbox) -> None:
    code = "def main():\n    x = 1\n    return {'r': x / 0}\n"
    with pytest.raises(CodeExecutionError) as info:
        await sandbox.run("python3", code, {})
    assert info.value.code == "code_error"
    assert info.value.status_code == 400
    assert info.value.message == "ZeroDivisionError: division by zero (line 3)"
    assert info.value.details["line"] == 3
    assert "runner" not in info.value.message


@needs_isolation
@needs_node
async def test_javascript_exception_names_type_message_and_user_line(
    sandbox: CodeSandbox,
) -> None:
    code = (
        "function main(inputs) {\n  const x = 1;\n  throw new TypeError('boom ' + inputs.a);\n}\n"
    )
    with pytest.raises(CodeExecutionError) as info:
        await sandbox.run("javascript", code, {"a": 7})
    assert info.value.message == "TypeError: boom 7 (line 3)"


@needs_isolation
@pytest.mark.parametrize(
    ("language", "code", "line"),
    [
        ("python3", "x = 1\ndef main()\n    return {}\n", 2),
        ("javascript", "const x = 1;\nfunction main() { return {a: ; }\n", 2),
    ],
)
async def test_syntax_error_reports_the_line(
    sandbox: CodeSandbox, language: Any, code: str, line: int
) -> None:
    if language == "javascript" and sandbox_host.node_interpreter() is None:
        pytest.skip(NO_NODE)
    with pytest.raises(CodeExecutionError) as info:
        await sandbox.run(language, code, {})
    assert info.value.details["type"] == "SyntaxError"
    assert info.value.details["line"] == line


@needs_isolation
@pytest.mark.parametrize(
    ("language", "code", "fragment"),
    [
        ("python3", "def main():\n    return [1, 2]\n", "got list"),
        ("python3", "def main():\n    return {'s': {1, 2}}\n", "set is not JSON"),
        ("python3", "def main():\n    return {'n': float('nan')}\n", "not JSON"),
        ("python3", "x = 1\n", "does not define a function main"),
        ("javascript", "function main() { return [1]; }", "got array"),
        ("javascript", "function main() { return {n: NaN}; }", "NaN is not allowed"),
        ("javascript", "function main() { return {n: 1n}; }", "BigInt"),
        ("javascript", "let y = 2;", "does not define a function main"),
    ],
)
async def test_result_must_be_a_json_object(
    sandbox: CodeSandbox, language: Any, code: str, fragment: str
) -> None:
    if language == "javascript" and sandbox_host.node_interpreter() is None:
        pytest.skip(NO_NODE)
    with pytest.raises(CodeResultError) as info:
        await sandbox.run(language, code, {})
    assert info.value.code == "code_result_invalid"
    assert fragment in info.value.message


async def test_inputs_must_be_json(sandbox: CodeSandbox) -> None:
    with pytest.raises(Exception, match="JSON-serialisable"):
        await sandbox.run("python3", "def main(x):\n    return {}\n", {"x": {1, 2}})


# --- escapes fail ---------------------------------------------------------------------

PY_NETWORK = """
import socket
def main(port):
    seen = {}
    for host, p in (("127.0.0.1", port), ("1.1.1.1", 80)):
        try:
            socket.create_connection((host, p), timeout=2).close()
            seen[host] = "connected"
        except OSError as exc:
            seen[host] = type(exc).__name__
    try:
        seen["dns"] = socket.gethostbyname("example.com")
    except OSError as exc:
        seen["dns"] = type(exc).__name__
    return seen
"""


@needs_isolation
async def test_python_has_no_network(sandbox: CodeSandbox, host_listener: int) -> None:
    out = await sandbox.run("python3", PY_NETWORK, {"port": host_listener})
    assert "connected" not in out.result.values()
    assert out.result["dns"] == "gaierror"


PY_FILES = """
import os
def main(paths):
    seen = {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                seen[path] = f.read(100).decode(errors="replace")
        except OSError as exc:
            seen[path] = type(exc).__name__
    seen["/root"] = os.listdir("/root") if os.path.isdir("/root") else []
    seen["/"] = sorted(os.listdir("/"))
    return seen
"""


@needs_isolation
async def test_python_cannot_read_host_files(sandbox: CodeSandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    secret.chmod(0o644)
    paths = [
        "/etc/passwd",
        "/etc/shadow",
        str(REPO_ROOT / "pyproject.toml"),
        str(secret),
        "/proc/self/environ",
        "/root/.bashrc",
    ]
    out = await sandbox.run("python3", PY_FILES, {"paths": paths})
    for path in paths:
        assert out.result[path] in ("FileNotFoundError", "PermissionError"), path
    assert set(out.result["/root"]) <= {".pyenv"}  # only the interpreter's own directory
    assert "etc" not in out.result["/"] and "work" not in out.result["/"]


@needs_isolation
async def test_python_cannot_write_outside_scratch(sandbox: CodeSandbox) -> None:
    code = """
import os
def main():
    seen = {}
    for path in ("/evil", "/usr/evil", "/sandbox/evil", "/tmp/ok"):
        try:
            with open(path, "w") as f:
                f.write("x")
            seen[path] = "written"
        except OSError as exc:
            seen[path] = type(exc).__name__
    return seen
"""
    out = await sandbox.run("python3", code, {})
    assert out.result.pop("/tmp/ok") == "written"
    assert "written" not in out.result.values()


@needs_isolation
async def test_python_sees_none_of_the_servers_environment(
    sandbox: CodeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_hex(16)
    monkeypatch.setenv("CHORUS_SANDBOX_TEST_SECRET", token)
    code = (
        "import os\ndef main():\n    print(dict(os.environ))\n"
        "    return {'env': dict(os.environ)}\n"
    )
    out = await sandbox.run("python3", code, {})
    assert out.result == {"env": {}}
    assert token not in out.stdout


@needs_isolation
async def test_python_is_stdlib_only_and_unprivileged(sandbox: CodeSandbox) -> None:
    code = """
import ctypes, os, sys
def main():
    seen = {"uid": os.getuid(), "path": sys.path}
    try:
        import pydantic
        seen["pydantic"] = "imported"
    except ImportError as exc:
        seen["pydantic"] = type(exc).__name__
    libc = ctypes.CDLL(None, use_errno=True)
    seen["unshare"] = [libc.unshare(0x10000000), ctypes.get_errno()]
    seen["mount"] = [libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno()]
    return seen
"""
    out = await sandbox.run("python3", code, {})
    assert out.result["pydantic"] == "ModuleNotFoundError"
    assert not any("site-packages" in p or ".venv" in p for p in out.result["path"])
    assert out.result["uid"] >= sandbox_host.RUN_UID_BASE
    assert out.result["unshare"] == [-1, 1]  # EPERM: no new namespaces
    assert out.result["mount"] == [-1, 1]


@needs_isolation
@needs_node
async def test_javascript_has_no_network(sandbox: CodeSandbox, host_listener: int) -> None:
    code = """
const net = require('net');
function attempt(host, port) {
  return new Promise((resolve) => {
    const s = net.connect(port, host, () => { s.destroy(); resolve('connected'); });
    s.on('error', (err) => resolve(err.code));
  });
}
async function main({port}) {
  return {local: await attempt('127.0.0.1', port), outside: await attempt('1.1.1.1', 80)};
}
"""
    out = await sandbox.run("javascript", code, {"port": host_listener})
    assert out.result == {"local": "ENETUNREACH", "outside": "ENETUNREACH"}


@needs_isolation
@needs_node
async def test_javascript_cannot_read_host_files_or_env(
    sandbox: CodeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_SANDBOX_TEST_SECRET", "js-secret")
    code = """
const fs = require('fs');
function main({paths}) {
  const seen = {env: process.env};
  for (const p of paths) {
    try { seen[p] = fs.readFileSync(p, 'utf8').slice(0, 100); } catch (err) { seen[p] = err.code; }
  }
  return seen;
}
"""
    paths = ["/etc/passwd", str(REPO_ROOT / "pyproject.toml"), "/root/.bashrc"]
    out = await sandbox.run("javascript", code, {"paths": paths})
    assert out.result.pop("env") == {}
    assert set(out.result.values()) <= {"ENOENT", "EACCES"}


# --- limits ---------------------------------------------------------------------------


@needs_isolation
@pytest.mark.parametrize(
    "code",
    [
        "import os\ndef main():\n    while True:\n        os.fork()\n",
        "import subprocess, sys\ndef main():\n    while True:\n"
        "        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n",
    ],
    ids=["fork", "spawn"],
)
async def test_fork_bomb_hits_the_process_limit_and_leaves_nothing_behind(
    sandbox: CodeSandbox, code: str
) -> None:
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run("python3", code, {}, FAST)
    assert info.value.details["limit"] == "processes"
    assert _sandbox_processes() == []
    out = await sandbox.run("python3", "def main():\n    return {'ok': True}\n", {})
    assert out.result == {"ok": True}


@needs_isolation
@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python3", "def main():\n    while True:\n        pass\n"),
        ("javascript", "function main() { while (true) {} }"),
    ],
    ids=["python", "javascript"],
)
async def test_busy_loop_is_cut_at_the_cpu_limit(
    sandbox: CodeSandbox, language: Any, code: str
) -> None:
    if language == "javascript" and sandbox_host.node_interpreter() is None:
        pytest.skip(NO_NODE)
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run(language, code, {}, FAST)
    assert info.value.details["limit"] == "cpu"


@needs_isolation
async def test_sleeping_code_is_cut_at_the_wall_limit(sandbox: CodeSandbox) -> None:
    code = "import time\ndef main():\n    time.sleep(30)\n"
    limits = SandboxLimits(wall_seconds=1)
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run("python3", code, {}, limits)
    assert info.value.details["limit"] == "wall_time"
    assert _sandbox_processes() == []


@needs_isolation
async def test_cancelled_run_kills_the_sandbox(sandbox: CodeSandbox) -> None:
    code = "import time\ndef main():\n    time.sleep(30)\n"
    task = asyncio.create_task(sandbox.run("python3", code, {}))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _sandbox_processes() == []


@needs_isolation
async def test_huge_output_is_cut_at_the_output_limit(sandbox: CodeSandbox) -> None:
    code = "def main():\n    print('x' * (50 * 1024 * 1024))\n    return {}\n"
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run("python3", code, {})
    assert info.value.details["limit"] == "output"


@needs_isolation
async def test_huge_result_counts_towards_the_output_limit(sandbox: CodeSandbox) -> None:
    code = "def main():\n    return {'x': 'y' * 2_000_000}\n"
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run("python3", code, {})
    assert info.value.details["limit"] == "output"


@needs_isolation
@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python3", "def main():\n    block = bytearray(2 * 1024**3)\n    return {}\n"),
        ("javascript", "function main() { return {n: Buffer.alloc(2 * 1024 ** 3).length}; }"),
        (
            "javascript",
            "function main() { const a = []; while (true) a.push(new Array(1e6).fill(1)); }",
        ),
    ],
    ids=["python", "js-buffer", "js-heap"],
)
async def test_allocating_2gb_hits_the_memory_limit(
    sandbox: CodeSandbox, language: Any, code: str
) -> None:
    if language == "javascript" and sandbox_host.node_interpreter() is None:
        pytest.skip(NO_NODE)
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run(language, code, {})
    assert info.value.details["limit"] == "memory"


@needs_isolation
async def test_huge_file_in_scratch_hits_the_file_size_limit(sandbox: CodeSandbox) -> None:
    code = (
        "def main():\n    with open('/tmp/big', 'wb') as f:\n"
        "        for _ in range(100):\n            f.write(b'x' * 1024 * 1024)\n"
    )
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run("python3", code, {})
    assert info.value.details["limit"] == "file_size"


@needs_isolation
async def test_concurrent_runs_all_succeed(sandbox: CodeSandbox) -> None:
    py = "def main(i):\n    return {'i': i * 2}\n"
    js = "function main({i}) { return {i: i * 2}; }"
    languages: list[Any] = ["python3"] * 8
    if sandbox_host.node_interpreter() is not None:
        languages += ["javascript"] * 4
    runs = [
        sandbox.run(language, py if language == "python3" else js, {"i": i})
        for i, language in enumerate(languages)
    ]
    results = await asyncio.gather(*runs)
    assert [r.result["i"] for r in results] == [2 * i for i in range(len(languages))]


# --- no isolation here ----------------------------------------------------------------


async def test_refuses_to_run_without_isolation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CodeSandbox, "available", staticmethod(lambda: False))
    with pytest.raises(SandboxUnavailableError) as info:
        await CodeSandbox(scratch_root=tmp_path).run("python3", "def main():\n    return {}\n", {})
    assert info.value.code == "sandbox_unavailable"
    assert info.value.status_code == 503


async def test_allow_unisolated_runs_with_rlimits_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CodeSandbox, "available", staticmethod(lambda: False))
    sandbox = CodeSandbox(scratch_root=tmp_path, allow_unisolated=True)
    out = await sandbox.run("python3", "def main(a):\n    return {'a': a}\n", {"a": 1})
    assert out.result == {"a": 1}
    with pytest.raises(SandboxLimitError) as info:
        await sandbox.run("python3", "def main():\n    while True:\n        pass\n", {}, FAST)
    assert info.value.details["limit"] == "cpu"


def test_limit_error_pickles_with_its_limit() -> None:
    err = SandboxLimitError("too long", limit="wall_time")
    back = pickle.loads(pickle.dumps(err))
    assert back.details == {"limit": "wall_time"}
    assert back.code == "code_limit_exceeded"


def test_limits_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError):
        SandboxLimits(cpu=1)  # type: ignore[call-arg]
