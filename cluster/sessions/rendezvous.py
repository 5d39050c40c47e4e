"""Rendezvous (highest-random-weight) hashing: which shard owns a conversation.

Adding a shard moves only the conversations that the new shard wins (about 1/n),
and every gateway replica computes the same owner without coordination.
"""

from __future__ import annotations

import hashlib


def _weight(shard: str, key: str) -> int:
    digest = hashlib.blake2b(f"{shard}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(key: str, shards: list[str]) -> str:
    """The shard name that owns ``key``."""
    if not shards:
        raise ValueError("no shards to choose from")
    return max(shards, key=lambda shard: _weight(shard, key))
