"""Rate limits and quotas on `chorus serve`: a key's requests per minute, an app's daily
tokens, counted by the one limits actor that every gateway replica shares.

The server runs one gateway replica; a second replica is played by this test process,
which joins the server's Ray cluster and counts through its own limiter client, as a
second replica does. Were the counters per replica, each would admit the whole limit.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import ray

from agents.limits import LimitExceededError, Limits, Subject
from cluster.limits import LIMITS_ACTOR_PREFIX, Limiter
from tests.e2e import auth
from tests.e2e.wsclient import recv, send

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def second_replica(server_cluster: None) -> Callable[[], Limiter]:
    """A limiter client in this process, on the server's own limits actor (made by the
    server's first limited request)."""

    def limiter() -> Limiter:
        name = next(
            a["name"]
            for a in ray.util.list_named_actors(all_namespaces=True)
            if a["name"].startswith(LIMITS_ACTOR_PREFIX)
        )
        return Limiter("", name.removeprefix(LIMITS_ACTOR_PREFIX))

    return limiter


def _key(server: str, limits: dict[str, int]) -> tuple[str, str]:
    body = {"name": "limited", "scopes": ["read", "write"], "limits": limits}
    made = auth.post(server + "/api/keys", json=body)
    assert made.status_code == 201, made.text
    return made.json()["key"]["id"], made.json()["secret"]


async def test_a_keys_requests_per_minute_hold_across_replicas(
    server: str, second_replica: Callable[[], Limiter]
) -> None:
    key_id, secret = _key(server, {"requests_per_minute": 6})
    answers = [httpx.get(server + "/api/apps", headers=auth.bearer(secret)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    other = second_replica()
    subject = Subject(f"key:{key_id}", Limits(requests_per_minute=6))
    for _ in range(3):  # the other replica's share
        assert await other.admit([subject], stream=False) is None
    with pytest.raises(LimitExceededError):
        await other.admit([subject], stream=False)
    refused = httpx.get(server + "/api/apps", headers=auth.bearer(secret))
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert httpx.get(server + "/api/apps", headers=auth.bearer(auth.KEY)).status_code == 200


async def test_an_apps_daily_tokens_survive_the_limits_actor(
    server: str,
    second_replica: Callable[[], Limiter],
    create_app,  # type: ignore[no-untyped-def]
) -> None:
    app_id = create_app(model={"model": "scripted", "max_tokens": 8})
    limited = auth.client(timeout=60).put(
        f"{server}/api/apps/{app_id}/limits", json={"limits": {"tokens_per_day": 1}}
    )
    assert limited.status_code == 200 and limited.json()["limits"]["tokens_per_day"] == 1
    conv = auth.post(server + "/api/conversations", json={"app_id": app_id}).json()
    ask = f"{server}/api/conversations/{conv['conversation_id']}/messages"
    first = auth.post(ask, json={"content": "hello", "stream": False}, timeout=60)
    assert first.status_code == 200, first.text  # a turn may run past the quota...
    second = auth.post(ask, json={"content": "again", "stream": False}, timeout=60)
    assert second.status_code == 429, second.text  # ...the next one is refused
    assert second.json()["error"]["code"] == "quota_exceeded"
    assert int(second.headers["retry-after"]) > 0
    ws_url = server.replace("http://", "ws://") + "/ws/chat"
    async with auth.connect(ws_url) as ws:
        await send(ws, type="resume", conversation_id=conv["conversation_id"])
        assert (await recv(ws))["type"] == "conversation_started"
        await send(ws, type="message", content="over the socket")
        refused = await recv(ws)
        assert refused["type"] == "error" and refused["code"] == "quota_exceeded", refused

    ray.kill(second_replica().actor(), no_restart=True)  # the counters are gone
    again = auth.post(ask, json={"content": "and again", "stream": False}, timeout=60)
    assert again.status_code == 429, again.text  # a new actor read the day back
    other = create_app(model={"model": "scripted", "max_tokens": 8})
    free = auth.post(server + "/api/conversations", json={"app_id": other})
    assert free.status_code == 201  # another app has its own quota (none)


def test_a_keys_daily_tokens_count_raw_model_completions(server: str) -> None:
    _, secret = _key(server, {"tokens_per_day": 1})
    body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    url = server + "/v1/chat/completions"
    streamed = httpx.post(url, json={**body, "stream": True}, headers=auth.bearer(secret))
    assert streamed.status_code == 200 and "[DONE]" in streamed.text  # the usage counted
    refused = httpx.post(url, json=body, headers=auth.bearer(secret))
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert httpx.post(url, json=body, headers=auth.bearer(auth.KEY)).status_code == 200
