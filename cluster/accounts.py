"""Accounts on a server: the access-token key, the account service, and the first start.

The first start of an instance creates its first user: the owner of the ``local``
workspace (where everything made before accounts existed lives) and the instance
operator, with ``admin_email`` and ``admin_password`` from the settings, or a random
password written once to ``<data_dir>/initial-login.txt`` (mode 0600). ``chorus
serve`` prints where that file is; ``chorus admin reset-password`` replaces a
forgotten password.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import structlog

from agents.accounts.errors import ConflictError
from agents.accounts.secrets import AccessTokenSigner
from agents.accounts.service import AccountPolicy, AccountService
from agents.accounts.store import AccountStoreProtocol
from cluster.settings import ChorusSettings

log = structlog.get_logger(__name__)
KEY_FILE = "auth.key"
INITIAL_LOGIN_FILE = "initial-login.txt"
LOCAL_WORKSPACE = "local"


def _private_file(path: Path, content: bytes) -> bool:
    """Create ``path`` (mode 0600) with ``content``; False when it exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    return True


def auth_key(settings: ChorusSettings) -> bytes:
    """The key that signs access tokens: the setting, or the data dir's key file
    (created with a random key on first use)."""
    if settings.auth_secret is not None:
        return settings.auth_secret.get_secret_value().encode()
    path = settings.data_dir / KEY_FILE
    _private_file(path, secrets.token_hex(32).encode())
    if path.stat().st_mode & 0o077:
        log.warning("auth_key_readable_by_others", path=str(path))
    return path.read_bytes().strip()


def account_service(settings: ChorusSettings, store: AccountStoreProtocol) -> AccountService:
    policy = AccountPolicy(
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
    )
    return AccountService(store, AccessTokenSigner(auth_key(settings)), policy)


async def first_start(accounts: AccountService, settings: ChorusSettings) -> Path | None:
    """Create the instance's first user if it has none; returns the file holding a
    generated password (None when the settings gave one or users exist)."""
    if await accounts.store.list_users():
        return None
    given = settings.admin_password
    password = given.get_secret_value() if given is not None else secrets.token_urlsafe(18)
    try:
        user = await accounts.create_user(
            settings.admin_email, password, "Administrator", operator=True
        )
    except ConflictError:
        return None  # another gateway replica made it first
    await accounts.create_workspace("Local", user.id, workspace_id=LOCAL_WORKSPACE)
    log.info("first_user_created", email=user.email)
    if given is not None:
        return None
    path = settings.data_dir / INITIAL_LOGIN_FILE
    text = (
        f"Chorus: the first user of this instance (owner of the 'local' workspace).\n"
        f"email:    {user.email}\npassword: {password}\n"
        f"Log in (POST /api/auth/login or `chorus login`), then change it "
        f"(POST /api/auth/password). Delete this file afterwards.\n"
    )
    path.unlink(missing_ok=True)
    _private_file(path, text.encode())
    return path
