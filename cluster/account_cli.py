"""``chorus login``, ``chorus logout`` and ``chorus keys``: a user's session and a
workspace's API keys, from a terminal, as clients of a running server.

``chorus login`` asks for the email and the password (or reads the password from stdin
with ``--password-stdin``, for scripts) and saves the login for that server, mode 0600
(:mod:`cluster.cli_http`); later commands (``chorus kb``, ``chorus keys``) use it and
refresh it. ``chorus logout`` ends the session on the server and forgets it here.
``chorus keys create`` prints the new key's secret once, on stdout alone, so that
``KEY=$(chorus keys create ci --scope read)`` works.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime, timedelta

import httpx

from agents import error_codes
from agents.errors import ChorusError
from cluster.cli_http import (
    add_server_options,
    auth_for,
    forget_login,
    guarded,
    login_from,
    raise_for_error,
    save_login,
    server_url,
)


def _url(args: argparse.Namespace) -> str:
    return server_url(getattr(args, "url", None))


def login(args: argparse.Namespace) -> int:
    url = _url(args)
    email = args.email or input("Email: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
    resp = httpx.post(
        url + "/api/auth/login", json={"email": email, "password": password}, timeout=60
    )
    raise_for_error(resp)
    saved = login_from(url, email.strip().lower(), resp.json())
    save_login(saved)
    print(f"Logged in to {url} as {saved.email}.", file=sys.stderr)
    return 0


def logout(args: argparse.Namespace) -> int:
    url = _url(args)
    gone = forget_login(url)
    if gone is None:
        print(f"Not logged in to {url}.", file=sys.stderr)
        return 0
    resp = httpx.post(
        url + "/api/auth/logout", json={"refresh_token": gone.refresh_token}, timeout=60
    )
    raise_for_error(resp)
    print(f"Logged out of {url}.", file=sys.stderr)
    return 0


def _client(args: argparse.Namespace) -> httpx.Client:
    url = _url(args)
    auth = auth_for(url, getattr(args, "api_key", None))
    if auth is None:
        raise ChorusError(
            f"not logged in to {url}: run `chorus login`, or pass --api-key / CHORUS_API_KEY",
            code=error_codes.UNAUTHORIZED,
        )
    headers = {"X-Workspace-Id": args.workspace} if getattr(args, "workspace", None) else {}
    return httpx.Client(base_url=url, auth=auth, headers=headers, timeout=60)


def keys_create(args: argparse.Namespace) -> int:
    body: dict[str, object] = {"name": args.name}
    if args.app:
        body["app_id"] = args.app
    else:
        body["scopes"] = args.scope or ["read"]
    limits = {
        "requests_per_minute": args.requests_per_minute,
        "concurrent_streams": args.concurrent_streams,
        "tokens_per_day": args.tokens_per_day,
    }
    if any(v is not None for v in limits.values()):
        body["limits"] = limits
    if args.expires_days:
        body["expires_at"] = (datetime.now(UTC) + timedelta(days=args.expires_days)).isoformat()
    with _client(args) as http:
        resp = http.post("/api/keys", json=body)
        raise_for_error(resp)
    made = resp.json()
    print(made["secret"])
    print(
        f"Key {made['key']['id']} ({made['key']['prefix']}...): shown this once; keep it safe.",
        file=sys.stderr,
    )
    return 0


def keys_list(args: argparse.Namespace) -> int:
    with _client(args) as http:
        resp = http.get("/api/keys")
        raise_for_error(resp)
    rows = [["ID", "NAME", "PREFIX", "ACCESS", "LAST USED", "STATE"]]
    for key in resp.json()["data"]:
        access = f"app {key['app_id']}" if key["kind"] == "app" else ",".join(key["scopes"])
        state = "revoked" if key["revoked_at"] else "active"
        if key["expires_at"] and state == "active":
            expires = datetime.fromisoformat(key["expires_at"])
            state = "expired" if expires <= datetime.now(UTC) else f"until {expires:%Y-%m-%d}"
        used = (key["last_used_at"] or "-")[:19]
        rows.append([key["id"], key["name"], key["prefix"] + "...", access, used, state])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    with _client(args) as http:
        resp = http.delete(f"/api/keys/{args.key_id}")
        raise_for_error(resp)
    print(f"Revoked {args.key_id}.", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``args.account_func`` (login, logout, keys ...)."""
    return guarded(_url(args), lambda: args.account_func(args))


def add_account_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``chorus login``, ``logout`` and ``keys ...``; they run with ``run``."""
    p = sub.add_parser("login", help="log in to a server; later commands use the login")
    add_server_options(p, credential=False)
    p.add_argument("--email", help="default: asked")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    p.set_defaults(account_func=login)
    p = sub.add_parser("logout", help="end the saved login session of a server")
    add_server_options(p, credential=False)
    p.set_defaults(account_func=logout)

    keys = sub.add_parser("keys", help="the workspace's API keys")
    add_server_options(keys)
    cmds = keys.add_subparsers(dest="keys_command", required=True)
    p = cmds.add_parser("create", help="create a key; prints its secret (once) on stdout")
    add_server_options(p)
    p.add_argument("name")
    p.add_argument(
        "--scope",
        action="append",
        choices=["read", "write", "admin"],
        help="a workspace key's scope (repeat for more; default read)",
    )
    p.add_argument("--app", help="an app key: this app only (no scopes)")
    p.add_argument("--expires-days", type=int, help="the key stops working after this many days")
    p.add_argument("--requests-per-minute", type=int, help="limit: requests per minute")
    p.add_argument("--concurrent-streams", type=int, help="limit: chat turns at once")
    p.add_argument("--tokens-per-day", type=int, help="limit: tokens per UTC day")
    p.set_defaults(account_func=keys_create)
    p = cmds.add_parser("list", help="list the keys (never their secrets)")
    add_server_options(p)
    p.set_defaults(account_func=keys_list)
    p = cmds.add_parser("revoke", help="revoke a key")
    add_server_options(p)
    p.add_argument("key_id")
    p.set_defaults(account_func=keys_revoke)
