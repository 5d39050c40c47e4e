from pathlib import Path

import pytest
from pydantic import ValidationError

from cluster.settings import ChorusSettings, EngineSettings


def test_defaults_are_embedded_and_on_loopback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    s = ChorusSettings()
    assert s.host == "127.0.0.1"
    assert [e.kind for e in s.engines] == ["llamacpp"]
    assert s.engines[0].model == ""  # the packaged SmolLM2
    assert s.gateway_max_ongoing_requests >= 100  # long-lived streams must not stall clients


def test_env_and_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "port: 9100\n"
        "engines:\n"
        "  - name: big\n"
        "    kind: openai\n"
        "    base_url: http://127.0.0.1:1234/v1\n"
        "    model: gpt-x\n"
    )
    monkeypatch.setenv("CHORUS_CONFIG", str(config))
    monkeypatch.setenv("CHORUS_PORT", "9200")  # env beats the file
    monkeypatch.setenv("CHORUS_EMBEDDING__VARIANT", "enpt")
    s = ChorusSettings()
    assert s.port == 9200
    assert s.engines[0].name == "big" and s.engines[0].tool_call_mode() == "native"
    assert s.embedding.variant == "enpt"


def test_invalid_values_name_the_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHORUS_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        ChorusSettings()


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="modle"):
        EngineSettings.model_validate({"name": "x", "modle": "typo"})


def test_kind_specific_requirements() -> None:
    with pytest.raises(ValidationError, match="needs base_url"):
        EngineSettings(name="x", kind="openai")
    with pytest.raises(ValidationError, match="needs model"):
        EngineSettings(name="x", kind="sglang")


def test_duplicate_model_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="repeated: a"):
        ChorusSettings(engines=[{"name": "a"}, {"name": "a"}])
