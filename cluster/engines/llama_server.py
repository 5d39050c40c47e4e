"""The ``llamacpp`` engine kind's process: llama.cpp's own ``llama-server``.

llama-server batches requests continuously over ``--parallel`` slots; each slot holds
one request's context, so the server gets ``context_window × parallel`` tokens of KV
cache and every request keeps the window the settings name. The binary is the one
``make install`` built (:mod:`cluster.engines.llama_build`).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from cluster.engines.llama_build import installed

if TYPE_CHECKING:
    from cluster.settings import EngineSettings


def model_path(spec: str) -> Path:
    """The GGUF to load: '' (the packaged one), a path, or 'hf:<owner>/<repo>/<file glob>'
    (downloaded into Hugging Face's cache by huggingface_hub, once)."""
    if not spec:
        return installed()["model"]
    if spec.startswith("hf:"):
        return _hf_file(spec[3:])
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no GGUF file at {path}")
    return path


def _hf_file(spec: str) -> Path:
    from huggingface_hub import hf_hub_download, list_repo_files

    repo, _, pattern = spec.rpartition("/")
    if repo.count("/") != 1 or not pattern:
        raise ValueError("a Hugging Face model is 'hf:<owner>/<repo>/<file glob>'")
    matches = sorted(fnmatch.filter(list_repo_files(repo), pattern))
    if not matches:
        raise FileNotFoundError(f"no file in {repo} matches {pattern!r}")
    return Path(hf_hub_download(repo, matches[0]))


def llama_server_command(settings: EngineSettings, port: int) -> list[str]:
    cmd = [
        str(installed()["server"]),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--model", str(model_path(settings.model)),
        "--alias", settings.name,
        "--ctx-size", str(settings.context_window * settings.parallel),
        "--parallel", str(settings.parallel),
        "--jinja",
        "--metrics",
        "--no-webui",
    ]  # fmt: skip
    if settings.threads:
        cmd += ["--threads", str(settings.threads)]
    return cmd
