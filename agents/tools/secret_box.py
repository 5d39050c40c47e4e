"""Secrets at rest (custom tools' API keys): Fernet, with one key per server.

The key is given as bytes, or kept in a file (``<data_dir>/secret.key``) that is
created on first use, readable by its owner only. Losing the file makes the stored
secrets unreadable: they must be entered again.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog
from cryptography.fernet import Fernet, InvalidToken

from agents import error_codes
from agents.errors import ChorusError

log = structlog.get_logger(__name__)
KEY_FILE = "secret.key"


class SecretBoxError(ChorusError):
    """The key is missing or malformed."""

    code = error_codes.SECRET_KEY_INVALID
    status_code = 500


class SecretDecryptError(SecretBoxError):
    """A stored secret does not open with this key (a different or replaced key)."""

    code = error_codes.SECRET_UNDECRYPTABLE


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise SecretBoxError(
                "the secret key must be 32 url-safe base64-encoded bytes (a Fernet key)"
            ) from exc

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        """The box of the key in ``path``, which is created (mode 0600) if missing."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if path.stat().st_mode & 0o077:
                log.warning("secret_key_readable_by_others", path=str(path))
            return cls(path.read_bytes().strip())
        key = Fernet.generate_key()
        with os.fdopen(fd, "wb") as file:
            file.write(key)
        log.info("secret_key_created", path=str(path))
        return cls(key)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> SecretBox:
        return cls.from_file(data_dir / KEY_FILE)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext; SecretDecryptError if ``token`` was sealed with another key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretDecryptError(
                "a stored secret cannot be decrypted with this server's key; enter it again"
            ) from exc
