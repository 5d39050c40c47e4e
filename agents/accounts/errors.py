"""The accounts' errors (see the tree in :mod:`agents.errors`).

::

    UnauthorizedError              401  invalid_credentials, token_expired, token_invalid,
                                        key_revoked, key_expired
    ForbiddenError                 403  forbidden (names the role or scope needed)
    ConflictError                  409  email_taken, last_owner
    AccountLockedError             429  account_locked (carries retry_after)
"""

from __future__ import annotations

from typing import Any

from agents import error_codes
from agents.errors import ChorusError, RateLimitedError


class ForbiddenError(ChorusError):
    """A known caller without the role or scope the action needs."""

    code = error_codes.FORBIDDEN
    status_code = 403
    error_type = "permission_error"


class ConflictError(ChorusError):
    """The action clashes with what is stored (an email in use, the last owner)."""

    code = error_codes.EMAIL_TAKEN
    status_code = 409
    error_type = "invalid_request_error"


class AccountLockedError(RateLimitedError):
    """Too many failed logins for this email or address; retry after ``retry_after``."""

    code = error_codes.ACCOUNT_LOCKED

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.details.setdefault("retry_after", round(retry_after))
