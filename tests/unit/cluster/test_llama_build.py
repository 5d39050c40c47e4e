"""The llama-server build's cache key, its cache hit, and the error when nothing is built.

The build itself (pip download, cmake) runs in `make install`; see the README."""

import json
import sys
from pathlib import Path

import pytest

from cluster.engines import llama_build
from cluster.engines.llama_build import (
    DEFAULT_CPU_ARGS,
    LlamaBuildError,
    build_key,
    build_server,
    cmake_args,
    installed,
)


def test_key_names_the_version_and_the_flags() -> None:
    default = cmake_args()
    assert default[-len(DEFAULT_CPU_ARGS.split()) :] == DEFAULT_CPU_ARGS.split()
    assert "-DLLAMA_BUILD_SERVER=ON" in default
    assert build_key(default) == build_key(cmake_args(DEFAULT_CPU_ARGS))
    assert build_key(default).startswith(llama_build.LLAMA_VERSION + "-")
    assert build_key(default) != build_key(cmake_args("-DGGML_NATIVE=ON"))


def test_a_cached_build_is_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = cmake_args()
    cached = tmp_path / "llama-server" / build_key(args)
    cached.mkdir(parents=True)
    (cached / "llama-server").write_text("")

    def no_build(*_: object) -> Path:
        raise AssertionError("a cached build must not be configured again")

    monkeypatch.setattr(llama_build, "configure", no_build)
    assert build_server(tmp_path, args) == cached


def test_missing_install_names_the_build_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setenv("CHORUS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "llama-server").mkdir(parents=True)
    (tmp_path / "cache" / "llama-server" / "0.3.36-abc.log").write_text("cmake failed\n")
    with pytest.raises(LlamaBuildError) as info:
        installed()
    assert "make install" in str(info.value) and "cluster.engines.llama_build" in str(info.value)
    assert "0.3.36-abc.log" in str(info.value)

    record = tmp_path / "venv" / "share" / "chorus" / "llama-server.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"server": str(tmp_path / "gone"), "model": str(record)}))
    with pytest.raises(LlamaBuildError, match="the server .*gone.* is missing: run make install"):
        installed()
