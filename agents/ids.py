"""Ids and clocks: the one place records get their ids and timestamps from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    """A random id that says what it names: ``conv_<32 hex>``, ``wf_<32 hex>``, ..."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC (every stored timestamp is)."""
    return datetime.now(UTC)
