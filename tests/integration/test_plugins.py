"""Third-party plugins arrive through entry points: a throw-away distribution is built and
installed with pip into a temp dir, and the composition root loads what it offers."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cluster.runtime import build_services
from cluster.settings import ChorusSettings

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "chorus-shout-plugin"
version = "0.1.0"

[project.entry-points."chorus.tools"]
shout = "chorus_shout:make_tools"
broken = "chorus_shout:missing_factory"
"""

MODULE = """
from agents.tools.base import BaseTool


class ShoutTool(BaseTool):
    name = "shout"
    description = "Repeat the text in capitals."
    parameters = {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    }
    source = "plugin"

    def __init__(self, has_http: bool) -> None:
        self.has_http = has_http

    async def run(self, arguments):
        return {"text": arguments["text"].upper(), "had_http": self.has_http}


def make_tools(http=None, code=None):
    return [ShoutTool(has_http=http is not None)]
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (source / "chorus_shout.py").write_text(textwrap.dedent(MODULE))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


async def test_a_tool_plugin_is_loaded_and_a_broken_one_skipped(
    installed_plugin: Path, tmp_path: Path
) -> None:
    assert (installed_plugin / "chorus_shout.py").is_file()
    services = build_services(ChorusSettings(data_dir=tmp_path / "data"), "chorus")
    registry = services.tools.builtins
    assert "shout" in registry.names()  # from the entry point, next to the built-ins
    assert "calculator" in registry.names()
    result = await registry.get("shout").call({"text": "hello"})
    assert result == {"text": "HELLO", "had_http": True}  # given the services it asked for
    # The workspace's registry (what apps and crews see) has it too.
    await services.start()
    assert "shout" in (await services.tools.tools_for("ws_plugins")).names()
