"""The accounts' secrets: password hashes (Argon2id), random tokens and keys and their
hashes, and signed access tokens.

Nothing here is hand-rolled: Argon2id through ``argon2-cffi`` (its default parameters,
RFC 9106's second recommendation), randomness from :mod:`secrets`, HMAC-SHA256 access
tokens through ``PyJWT``. Refresh tokens and API keys are 256-bit random strings, so a
SHA-256 of them is what is stored (a slow hash adds nothing to that entropy and would
cost every request).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agents import error_codes
from agents.accounts.records import AccessClaims, Principal
from agents.errors import UnauthorizedError

_HASHER = PasswordHasher()
#: Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
_ALGORITHM = "HS256"
#: Marks an internal credential (so the edge tells it from a user's access token).
INTERNAL_PREFIX = "int-"
#: Marks an end user's token for one app.
END_USER_PREFIX = "end-"
_ISSUER = "chorus"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash costs the same time and is False."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_secret(prefix: str) -> str:
    """``<prefix>-<43 url-safe characters>`` (256 random bits)."""
    return f"{prefix}-{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """The stored form of a high-entropy secret (a refresh token, an API key)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessTokenSigner:
    """Signs and checks access tokens (JWT, HS256) with the instance's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the access-token key must be at least 32 bytes")
        self._key = key

    def sign(self, user_id: str, session_id: str, issued: datetime, ttl: timedelta) -> str:
        claims = {
            "iss": _ISSUER,
            "sub": user_id,
            "sid": session_id,
            "iat": int(issued.timestamp()),
            "exp": int((issued + ttl).timestamp()),
            "typ": "access",
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def sign_internal(self, workspace_id: str, issued: datetime, ttl: timedelta) -> str:
        """A credential for the server's own calls to itself on a workspace's behalf (a
        crew's model calls through the gateway): that workspace only, short-lived."""
        claims = {
            "iss": _ISSUER,
            "sub": "internal",
            "ws": workspace_id,
            "iat": int(issued.timestamp()),
            "exp": int((issued + ttl).timestamp()),
            "typ": "internal",
        }
        return INTERNAL_PREFIX + jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def sign_end_user(
        self,
        workspace_id: str,
        app_id: str,
        end_user_id: str,
        issued: datetime,
        ttl: timedelta,
        *,
        user_id: str | None = None,
    ) -> str:
        """An end user's token for one app (its chat and their own conversations)."""
        claims = {
            "iss": _ISSUER,
            "sub": end_user_id,
            "ws": workspace_id,
            "app": app_id,
            "uid": user_id,
            "iat": int(issued.timestamp()),
            "exp": int((issued + ttl).timestamp()),
            "typ": "end_user",
        }
        return END_USER_PREFIX + jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def check_end_user(self, token: str) -> Principal:
        """The principal of an end user's token; 401 as :meth:`check`."""
        claims = self._decode(
            token.removeprefix(END_USER_PREFIX), "end_user", ["exp", "sub", "ws", "app"]
        )
        return Principal(
            kind="end_user",
            workspace_id=str(claims["ws"]),
            app_id=str(claims["app"]),
            end_user_id=str(claims["sub"]),
            user_id=claims.get("uid"),
        )

    def check(self, token: str) -> AccessClaims:
        """An access token's claims; 401 token_expired or token_invalid."""
        claims = self._decode(token, "access", ["exp", "sub", "sid", "iss"])
        return AccessClaims(
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
        )

    def check_internal(self, token: str) -> str:
        """The workspace of an internal credential; 401 as :meth:`check`."""
        claims = self._decode(token.removeprefix(INTERNAL_PREFIX), "internal", ["exp", "ws"])
        return str(claims["ws"])

    def _decode(self, token: str, typ: str, required: list[str]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": [*required, "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError(
                "the token has expired; refresh it or log in again",
                code=error_codes.TOKEN_EXPIRED,
            ) from exc
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(
                "the token is not valid", code=error_codes.TOKEN_INVALID
            ) from exc
        if claims.get("typ") != typ:
            raise UnauthorizedError(f"not an {typ} token", code=error_codes.TOKEN_INVALID)
        return claims
