"""The llama.cpp and SGLang engines differ only in their launch command and Ray options."""

import sys
from pathlib import Path

import pytest

from cluster.engines.deployments import chat_engine_options, deployment_name
from cluster.engines.engine_process import launch_command
from cluster.engines.llama_build import installed
from cluster.engines.llama_server import model_path
from cluster.settings import EngineSettings


def test_llamacpp_command() -> None:
    """llama-server with one context window per slot: the server gets window x slots."""
    settings = EngineSettings(
        name="tiny", context_window=1024, threads=2, parallel=3, extra_args=["--top-k", "5"]
    )
    cmd = launch_command(settings, 4242)
    assert cmd[0] == str(installed()["server"]) and cmd[0].endswith("/llama-server")
    assert cmd[cmd.index("--port") + 1] == "4242"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--model") + 1] == str(installed()["model"])
    assert cmd[cmd.index("--alias") + 1] == "tiny"
    assert cmd[cmd.index("--parallel") + 1] == "3"
    assert cmd[cmd.index("--ctx-size") + 1] == str(1024 * 3)
    assert cmd[cmd.index("--threads") + 1] == "2"
    assert "--metrics" in cmd and "--jinja" in cmd
    assert cmd[-2:] == ["--top-k", "5"]


def test_llamacpp_model_path(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert model_path(str(gguf)) == gguf
    with pytest.raises(FileNotFoundError, match="no GGUF file"):
        model_path(str(tmp_path / "missing.gguf"))
    with pytest.raises(ValueError, match="hf:<owner>/<repo>/<file glob>"):
        model_path("hf:just-a-repo")


def test_sglang_command_and_options() -> None:
    s = EngineSettings(
        name="qwen",
        kind="sglang",
        model="Qwen/Qwen2.5-7B-Instruct",
        tensor_parallel_size=2,
        extra_args=["--mem-fraction-static", "0.8"],
    )
    cmd = launch_command(s, 5000)
    assert cmd[:3] == [sys.executable, "-m", "sglang.launch_server"]
    assert cmd[cmd.index("--tp-size") + 1] == "2"
    assert cmd[-2:] == ["--mem-fraction-static", "0.8"]
    opts = chat_engine_options(s)
    assert opts["ray_actor_options"]["num_gpus"] == 2
    assert "sglang" in str(opts["ray_actor_options"]["runtime_env"])  # its own env: openai==2.8.0
    assert opts["autoscaling_config"]["max_replicas"] >= 2
    assert "num_replicas" not in opts


def test_llamacpp_options_fixed_replicas() -> None:
    opts = chat_engine_options(EngineSettings(name="a/b:c", num_replicas=3))
    assert opts["num_replicas"] == 3
    assert opts["name"] == deployment_name("a/b:c") == "engine-a-b-c"
    assert "num_gpus" not in opts["ray_actor_options"]
