"""``chorus admin``: the instance operator's commands on the store itself (no server
needed, so a forgotten password is never a locked door): ``create-user``,
``reset-password``. They read the same settings as ``chorus serve`` (``CHORUS_*``,
the data dir or ``CHORUS_DATABASE_URL``)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from agents.errors import ChorusError

PASSWORD_ENV = "CHORUS_NEW_PASSWORD"


def add_admin_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser("admin", help="operator commands on the store (users, passwords)")
    cmds = admin.add_subparsers(dest="admin_command", required=True)
    create = cmds.add_parser("create-user", help="create a user")
    create.add_argument("email")
    create.add_argument("--name", default="", help="display name")
    create.add_argument("--operator", action="store_true", help="an instance operator")
    create.add_argument("--workspace", help="add them to this workspace id")
    create.add_argument("--role", default="member", choices=["owner", "admin", "editor", "member"])
    reset = cmds.add_parser("reset-password", help="set a user's password; ends their logins")
    reset.add_argument("email")


def _password() -> str:
    """From CHORUS_NEW_PASSWORD (scripts) or asked twice on the terminal."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    first = getpass.getpass("new password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("the passwords differ")
    return first


async def _run(args: argparse.Namespace) -> int:
    from cluster.accounts import account_service
    from cluster.settings import ChorusSettings
    from cluster.store import SqlAccountStore
    from cluster.store.database import Database

    settings = ChorusSettings()
    database = Database(settings.resolved_database_url())
    await database.start()
    try:
        accounts = account_service(settings, SqlAccountStore(database))
        if args.admin_command == "create-user":
            user = await accounts.create_user(
                args.email, _password(), args.name, operator=args.operator
            )
            if args.workspace:
                await accounts.store.get_workspace(args.workspace)
                await accounts.set_member(args.workspace, user.id, args.role)
            print(user.id)
            return 0
        found = await accounts.store.find_user(args.email)
        if found is None:
            print(f"error: no user has the email {args.email!r}", file=sys.stderr)
            return 1
        await accounts.set_password(found[0].id, _password())
        print(f"password of {found[0].email} set; their login sessions are ended")
        return 0
    finally:
        await database.close()


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except ChorusError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
