"""Which limits a request meets, at the gateway (the counting is ``cluster/limits.py``).

A key's requests per minute count at the edge, once per request (every route). A raw
model's completion counts against the key's concurrent streams and tokens per day. A
chat turn with a published app (websocket, REST, ``model: "app:<id>"``) is a stream of: the
key that sent it (its concurrent streams and tokens per day), the app (all of its
limits, over every caller), and, for an end user, that end user (the app's per-end-user
limits). An app's limits are read through a cache of ``ttl_s`` seconds, so a turn costs
no extra store read, and a change is in force everywhere within that time.
"""

from __future__ import annotations

import time

from agents.accounts.records import Principal
from agents.conversation.records import AppRecord
from agents.conversation.store import ConversationStoreProtocol
from agents.limits import Limits, Subject
from cluster.limits import Lease, Limiter


class TurnLimits:
    """A gateway replica's view of the limits; the counting is the limiter's."""

    def __init__(
        self, limiter: Limiter, store: ConversationStoreProtocol, ttl_s: float = 5.0
    ) -> None:
        self.limiter = limiter
        self.store = store
        self.ttl_s = ttl_s
        self._apps: dict[tuple[str, str], tuple[float, AppRecord]] = {}

    async def app(self, workspace_id: str, app_id: str) -> AppRecord:
        key = (workspace_id, app_id)
        hit = self._apps.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        app = await self.store.get_app(workspace_id, app_id)
        if len(self._apps) > 10_000:
            self._apps.clear()
        self._apps[key] = (now + self.ttl_s, app)
        return app

    def forget(self, workspace_id: str, app_id: str) -> None:
        self._apps.pop((workspace_id, app_id), None)

    async def request(self, who: Principal | None) -> None:
        """Count a key's request against its requests per minute (429 when reached)."""
        if who is None or who.limits is None or who.key_id is None:
            return
        rpm = who.limits.requests_per_minute
        if rpm is not None:
            subject = Subject(f"key:{who.key_id}", Limits(requests_per_minute=rpm))
            await self.limiter.admit([subject], stream=False)

    async def completion(self, who: Principal | None) -> Lease | None:
        """Admit a raw model's completion: the key's concurrent streams and tokens."""
        if who is None or who.limits is None or who.key_id is None:
            return None
        key_limits = who.limits.model_copy(update={"requests_per_minute": None})
        subject = Subject(f"key:{who.key_id}", key_limits, count_request=False)
        return await self.limiter.admit([subject], stream=True)

    async def turn(self, who: Principal | None, workspace_id: str, app_id: str) -> Lease | None:
        """Admit a chat turn with an app: a lease to release with its tokens, or None
        when nothing limits it; 429 when a limit is reached."""
        subjects = []
        if who is not None and who.limits is not None and who.key_id is not None:
            key_limits = who.limits.model_copy(update={"requests_per_minute": None})
            subjects.append(Subject(f"key:{who.key_id}", key_limits, count_request=False))
        app = await self.app(workspace_id, app_id)
        if app.limits is not None:
            subjects.append(Subject(f"app:{app.id}", app.limits))
        if who is not None and who.kind == "end_user" and app.end_user_limits is not None:
            subjects.append(Subject(f"end_user:{app.id}:{who.end_user_id}", app.end_user_limits))
        return await self.limiter.admit(subjects, stream=True)
