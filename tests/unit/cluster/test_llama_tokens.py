"""The llamacpp kind's local counter: loaded on the first count, cached per conversation,
and absent (the replica is asked) when this machine has no vocabulary shim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agents.engine import ChatMessage
from agents.tokens import LocalTokenCounter
from cluster.engines.kinds import engine_kinds
from cluster.engines.llama_build import LlamaBuildError, installed_shim
from cluster.engines.llama_tokens import LlamaTokenCounter, llamacpp_token_counter
from cluster.settings import EngineSettings


class FakeVocab:
    """One token per character, a ChatML-like template; counts its loads and calls."""

    gguf = Path("fake.gguf")
    bos_token, eos_token, adds_bos, adds_eos = "<s>", "</s>", False, False

    def __init__(self) -> None:
        self.counted: list[str] = []

    def chat_template(self) -> str:
        return "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"

    def count(self, text: str) -> int:
        self.counted.append(text)
        return len(text)


def test_loads_on_first_count_and_caches() -> None:
    loads: list[FakeVocab] = []

    def load() -> FakeVocab:
        loads.append(FakeVocab())
        return loads[-1]

    counter = LlamaTokenCounter(load)  # type: ignore[arg-type]
    assert isinstance(counter, LocalTokenCounter) and counter.exact
    assert loads == []  # nothing loaded until a count
    messages = [ChatMessage(role="user", content="hi")]
    assert counter.count(messages) == len("<user>hi")
    assert counter.count([ChatMessage(role="user", content="hi")]) == len("<user>hi")
    assert len(loads) == 1 and loads[0].counted == ["<user>hi"]  # the second count was cached
    counter.observe(messages, 99)  # exact counts learn nothing
    assert counter.count(messages) == len("<user>hi")


def _record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: str) -> Path:
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    server = tmp_path / "build" / "llama-server"
    model = tmp_path / "model.gguf"
    server.parent.mkdir()
    server.write_text("")
    model.write_text("")
    record = tmp_path / "venv" / "share" / "chorus" / "llama-server.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"server": str(server), "model": str(model), **extra}))
    return server.parent


def test_a_missing_shim_names_make_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = _record(tmp_path, monkeypatch)
    with pytest.raises(LlamaBuildError, match="vocabulary shim .* is missing: run make install"):
        installed_shim()
    (build / "libchorus-vocab.so").write_text("")  # an install from before the record named it
    assert installed_shim() == build / "libchorus-vocab.so"


def test_without_a_shim_the_replica_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(tmp_path, monkeypatch, vocab_shim=str(tmp_path / "gone.so"))
    settings = EngineSettings(name="l", kind="llamacpp")
    assert engine_kinds().get("llamacpp").token_counter(settings) is None
    assert "token_counter_remote" in capsys.readouterr().out
    (tmp_path / "gone.so").write_text("")
    assert isinstance(llamacpp_token_counter(settings), LlamaTokenCounter)  # nothing loaded yet
    assert llamacpp_token_counter(EngineSettings(name="h", model="hf:o/r/*.gguf")) is None
