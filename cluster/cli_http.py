"""What the terminal commands share as clients of a running server: which server, which
credential, and how its errors are shown.

A command's credential is, in order: ``--api-key``, ``CHORUS_API_KEY`` (a workspace key
or an access token), or the login ``chorus login`` saved for that server. A saved
login lives in ``credentials.json`` in the config dir (``CHORUS_CONFIG_DIR``, else
``$XDG_CONFIG_HOME/chorus``, else ``~/.config/chorus``), mode 0600 in a 0700 dir, one
entry per server URL. Its access token is refreshed, and the new pair saved, when it
has expired or the server says so; the refresh token is used once, as the server
requires.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import BaseModel, ValidationError

from agents import error_codes
from agents.errors import ChorusError

DEFAULT_URL = "http://127.0.0.1:8000"
CREDENTIALS_FILE = "credentials.json"
#: Refresh this long before the access token's expiry (clocks and the call's own time).
_EARLY = timedelta(seconds=30)


def server_url(explicit: str | None) -> str:
    return (explicit or os.environ.get("CHORUS_URL") or DEFAULT_URL).rstrip("/")


def config_dir() -> Path:
    if os.environ.get("CHORUS_CONFIG_DIR"):
        return Path(os.environ["CHORUS_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "chorus"


class SavedLogin(BaseModel):
    """A login session of one server, as ``chorus login`` keeps it."""

    url: str
    email: str
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def _read_all() -> dict[str, SavedLogin]:
    path = config_dir() / CREDENTIALS_FILE
    try:
        raw = json.loads(path.read_text())
        return {url: SavedLogin.model_validate(entry) for url, entry in raw.items()}
    except FileNotFoundError:
        return {}
    except (ValueError, ValidationError, AttributeError):
        raise ChorusError(f"{path} is not a credentials file; remove it and log in again") from None


def _write_all(logins: dict[str, SavedLogin]) -> None:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps({url: s.model_dump(mode="json") for url, s in logins.items()}, indent=2)
    # written whole and renamed: a reader never sees half a file, and the mode is set
    # before a secret is in it
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".credentials-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(body)
        os.replace(tmp, folder / CREDENTIALS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_login(url: str) -> SavedLogin | None:
    return _read_all().get(url)


def save_login(login: SavedLogin) -> None:
    logins = _read_all()
    logins[login.url] = login
    _write_all(logins)


def forget_login(url: str) -> SavedLogin | None:
    logins = _read_all()
    gone = logins.pop(url, None)
    if gone is not None:
        _write_all(logins)
    return gone


def login_from(url: str, email: str, body: dict[str, str]) -> SavedLogin:
    """A saved login from a login or refresh answer."""
    return SavedLogin(
        url=url,
        email=email,
        access_token=body["access_token"],
        access_expires_at=datetime.fromisoformat(body["access_expires_at"]),
        refresh_token=body["refresh_token"],
        refresh_expires_at=datetime.fromisoformat(body["refresh_expires_at"]),
    )


class SessionAuth(httpx.Auth):
    """Bearer auth with a saved login that refreshes itself (and saves the new pair)."""

    requires_response_body = True

    def __init__(self, login: SavedLogin) -> None:
        self.login = login

    def _refresh_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.login.url + "/api/auth/refresh",
            json={"refresh_token": self.login.refresh_token},
        )

    def _refreshed(self, resp: httpx.Response) -> None:
        if resp.status_code != 200:
            forget_login(self.login.url)
            raise ChorusError(
                f"your login to {self.login.url} has ended; run `chorus login` again",
                code=error_codes.TOKEN_INVALID,
            )
        self.login = login_from(self.login.url, self.login.email, resp.json())
        save_login(self.login)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.login.access_expires_at - _EARLY <= datetime.now(UTC):
            self._refreshed((yield self._refresh_request()))
        request.headers["Authorization"] = f"Bearer {self.login.access_token}"
        response = yield request
        if response.status_code == 401 and _code(response) == error_codes.TOKEN_EXPIRED:
            self._refreshed((yield self._refresh_request()))
            request.headers["Authorization"] = f"Bearer {self.login.access_token}"
            yield request


def _code(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def auth_for(url: str, api_key: str | None) -> httpx.Auth | None:
    """The credential of a command: the key given, else the saved login, else none."""
    key = api_key or os.environ.get("CHORUS_API_KEY")
    if key:
        return _Bearer(key)
    login = load_login(url)
    return SessionAuth(login) if login is not None else None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def raise_for_error(resp: httpx.Response) -> None:
    """A server's error answer (OpenAI's error JSON) as a ChorusError with its code."""
    if not resp.is_error:
        return
    code, message = f"http_{resp.status_code}", resp.text.strip()[:300] or resp.reason_phrase
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code") or code
        message = body["error"].get("message") or message
    elif isinstance(body, dict) and "detail" in body:  # a route this server does not have
        message = str(body["detail"])
    if resp.status_code == 401:
        message += "; log in with `chorus login`, or pass --api-key / CHORUS_API_KEY"
    raise ChorusError(message, code=code, details={"status_code": resp.status_code})


def guarded(url: str, command: Callable[[], int]) -> int:
    """Run a client command; errors become one line on stderr and exit code 1."""
    try:
        return int(command())
    except ChorusError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
    except httpx.ConnectError:
        print(
            f"error: cannot reach Chorus at {url}; start it with `chorus serve` "
            "(or point --url / CHORUS_URL at a running server)",
            file=sys.stderr,
        )
    except httpx.TimeoutException:
        print(f"error: Chorus at {url} did not answer in time", file=sys.stderr)
    except httpx.HTTPError as exc:
        print(f"error: talking to Chorus at {url} failed: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


def add_server_options(parser: argparse.ArgumentParser, *, credential: bool = True) -> None:
    """``--url`` and, with ``credential``, ``--workspace`` and ``--api-key``.

    SUPPRESS: the options work before or after a subcommand without overwriting each
    other."""
    parser.add_argument(
        "--url", default=argparse.SUPPRESS, help=f"server (default CHORUS_URL or {DEFAULT_URL})"
    )
    if not credential:
        return
    parser.add_argument(
        "--workspace",
        default=argparse.SUPPRESS,
        help="workspace id, for a logged-in user (a key acts in its own)",
    )
    parser.add_argument(
        "--api-key",
        default=argparse.SUPPRESS,
        help="a workspace key (ck-...) or access token instead of the saved login "
        "(default CHORUS_API_KEY)",
    )
