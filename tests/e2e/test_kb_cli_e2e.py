"""``chorus kb`` against the real server: create, upload with progress, list, query, delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.cli import main
from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_upload_with_the_cli_until_ready(
    server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHORUS_API_KEY", auth.KEY)  # the key a script would be given
    assert main(["kb", "--url", server, "create", "cli-e2e", "--chunk-tokens", "64"]) == 0
    kb = capsys.readouterr().out.strip()
    path = tmp_path / "zoo.txt"
    path.write_text("Zorblax Zoo opens at nine in the morning and closes at six in the evening.")

    assert main(["kb", "--url", server, "upload", kb, str(path)]) == 0
    out, err = capsys.readouterr()
    doc = out.strip()
    assert err.endswith(" chunks)\n") and "ready (" in err.split("\r")[-1], err

    assert main(["kb", "--url", server, "docs", kb]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["ID", "NAME", "STATUS", "CHUNKS", "ERROR"]
    assert rows[1].split()[:3] == [doc, "zoo.txt", "ready"] and int(rows[1].split()[3]) >= 1

    assert main(["kb", "--url", server, "query", kb, "When does the zoo open?"]) == 0
    hits = capsys.readouterr().out
    assert hits.startswith("1. score ") and f"zoo.txt  ({doc} #0)" in hits, hits

    assert main(["kb", "--url", server, "delete", kb]) == 0
    assert main(["kb", "--url", server, "docs", kb]) == 1
    assert "error: " in capsys.readouterr().err
