"""``chorus login``, ``chorus keys`` and ``chorus logout`` against `chorus serve`, and the
server's internal credential held to its one workspace."""

from __future__ import annotations

import io
import json
import stat
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from agents.accounts.secrets import AccessTokenSigner
from agents.ids import utcnow
from cluster.cli import main
from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_login_keys_refresh_and_logout_from_the_terminal(
    server: str,
    server_data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("CHORUS_CONFIG_DIR", str(config))
    monkeypatch.setenv("CHORUS_URL", server)
    assert main(["keys", "list"]) == 1
    assert "not logged in" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO(auth.ADMIN_PASSWORD + "\n"))
    assert main(["login", "--email", auth.ADMIN_EMAIL, "--password-stdin"]) == 0
    saved_file = config / "credentials.json"
    assert stat.S_IMODE(saved_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    saved = json.loads(saved_file.read_text())[server]
    assert saved["email"] == auth.ADMIN_EMAIL
    capsys.readouterr()

    assert main(["keys", "create", "from-the-cli", "--scope", "read", "--scope", "write"]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("ck-") and "\n" not in secret  # stdout is the secret alone
    assert main(["keys", "list"]) == 0
    table = capsys.readouterr().out
    assert secret not in table
    row = next(line for line in table.splitlines() if "from-the-cli" in line)
    key_id = row.split()[0]
    assert "read,write" in row and "active" in row

    # the server says the access token expired: the CLI refreshes and saves the new pair
    signer = AccessTokenSigner((server_data_dir / "auth.key").read_bytes().strip())
    claims = signer.check(saved["access_token"])
    stale = json.loads(saved_file.read_text())
    stale[server]["access_token"] = signer.sign(
        claims.user_id, claims.session_id, utcnow() - timedelta(hours=1), timedelta(minutes=5)
    )
    saved_file.write_text(json.dumps(stale))
    assert main(["kb", "list"]) == 0
    fresh = json.loads(saved_file.read_text())[server]
    assert fresh["refresh_token"] != saved["refresh_token"]
    used = httpx.post(server + "/api/auth/refresh", json={"refresh_token": saved["refresh_token"]})
    assert used.status_code == 401  # the CLI used it once; a replay ended that session...
    capsys.readouterr()
    assert main(["keys", "list"]) == 1  # ...which the CLI then reports plainly
    assert "chorus login" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO(auth.ADMIN_PASSWORD + "\n"))
    assert main(["login", "--email", auth.ADMIN_EMAIL, "--password-stdin"]) == 0
    assert main(["keys", "revoke", key_id]) == 0
    gone = httpx.get(server + "/api/apps", headers=auth.bearer(secret))
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "key_revoked"

    refresh = json.loads(saved_file.read_text())[server]["refresh_token"]
    assert main(["logout"]) == 0
    assert json.loads(saved_file.read_text()) == {}
    ended = httpx.post(server + "/api/auth/refresh", json={"refresh_token": refresh})
    assert ended.status_code == 401


def test_the_internal_credential_reaches_its_workspace_only(
    server: str, server_data_dir: Path
) -> None:
    theirs = auth.post(
        server + "/api/apps",
        json={"name": "not yours", "model": {"model": "scripted"}},
        headers=auth.other_workspace(),
    )
    assert theirs.status_code == 201, theirs.text
    their_app = theirs.json()["id"]
    keys = auth.get(server + "/api/keys", headers=auth.other_workspace()).json()["data"]
    their_ws = keys[0]["workspace_id"]
    signer = AccessTokenSigner((server_data_dir / "auth.key").read_bytes().strip())
    internal = signer.sign_internal("local", utcnow(), timedelta(minutes=5))
    as_server = {**auth.bearer(internal), "X-Workspace-Id": their_ws}  # asks for theirs

    listed = httpx.get(server + "/api/apps", headers=as_server)
    assert listed.status_code == 200
    assert their_app not in {a["id"] for a in listed.json()["data"]}
    read = httpx.get(f"{server}/api/apps/{their_app}", headers=as_server)
    assert read.status_code == 404
    chat = httpx.post(
        server + "/v1/chat/completions",
        json={"model": f"app:{their_app}", "messages": [{"role": "user", "content": "hi"}]},
        headers=as_server,
    )
    assert chat.status_code == 404
    members = httpx.get(server + "/api/members", headers=as_server)
    assert members.status_code == 403  # and nothing an admin does
    expired = signer.sign_internal("local", utcnow() - timedelta(hours=2), timedelta(hours=1))
    late = httpx.get(server + "/api/apps", headers=auth.bearer(expired))
    assert late.status_code == 401 and late.json()["error"]["code"] == "token_expired"
