"""AccountService on the in-memory store: login sessions, the throttle, workspaces and
members, API keys, and the principal of an access token."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

import pytest

from agents import error_codes
from agents.accounts.errors import AccountLockedError, ConflictError, ForbiddenError
from agents.accounts.records import Actor
from agents.accounts.secrets import AccessTokenSigner, digest
from agents.accounts.service import AccountPolicy, AccountService
from agents.accounts.store import InMemoryAccountStore
from agents.errors import InvalidInputError, NotFoundError, UnauthorizedError
from agents.ids import utcnow

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


class Env:
    def __init__(self, policy: AccountPolicy = AccountPolicy()) -> None:  # noqa: B008
        self.store = InMemoryAccountStore()
        self.clock = Clock()
        self.delays: list[float] = []
        self.service = AccountService(
            self.store,
            AccessTokenSigner(secrets.token_bytes(32)),
            policy,
            clock=self.clock,
            sleep=self._sleep,
        )

    async def _sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def env() -> Env:
    return Env()


async def _code(awaitable: object) -> str:
    try:
        await awaitable  # type: ignore[misc]
    except (UnauthorizedError, NotFoundError, ForbiddenError, ConflictError) as exc:
        return exc.code
    raise AssertionError("no error")


async def test_users_are_created_with_a_normalised_email_once(env: Env) -> None:
    user = await env.service.create_user(" Ada@Example.COM ", PASSWORD, "Ada")
    assert user.email == "ada@example.com"
    assert PASSWORD not in repr(env.store.users) and env.store.passwords[user.id] != PASSWORD
    assert env.store.passwords[user.id].startswith("$argon2id$")
    with pytest.raises(ConflictError) as taken:
        await env.service.create_user("ADA@example.com", PASSWORD)
    assert taken.value.code == error_codes.EMAIL_TAKEN and taken.value.status_code == 409
    with pytest.raises(InvalidInputError) as short:
        await env.service.create_user("bob@example.com", "short")
    assert short.value.param == "password"
    with pytest.raises(InvalidInputError) as bad:
        await env.service.create_user("not-an-email", PASSWORD)
    assert bad.value.param == "email"


async def test_wrong_password_and_unknown_email_look_the_same(env: Env) -> None:
    await env.service.create_user("ada@example.com", PASSWORD)
    timings: dict[str, list[float]] = {"wrong": [], "unknown": []}
    for _ in range(3):
        for kind, email in (("wrong", "ada@example.com"), ("unknown", "eve@example.com")):
            started = time.perf_counter()
            code = await _code(env.service.login(email, "not the password"))
            timings[kind].append(time.perf_counter() - started)
            assert code == error_codes.INVALID_CREDENTIALS
    wrong, unknown = sorted(timings["wrong"])[1], sorted(timings["unknown"])[1]
    assert 0.5 < unknown / wrong < 2.0  # both verify an Argon2id hash


async def test_login_gives_an_access_token_that_names_the_user(env: Env) -> None:
    user = await env.service.create_user("ada@example.com", PASSWORD)
    ws = await env.service.create_workspace("Ada's", user.id)
    tokens = await env.service.login("ADA@example.com", PASSWORD)
    assert tokens.user.id == user.id and tokens.refresh_token.startswith("rt-")
    assert tokens.access_expires_at - env.clock.now == timedelta(minutes=15)
    principal = await env.service.user_principal(tokens.access_token, None)
    assert (principal.kind, principal.user_id, principal.workspace_id, principal.role) == (
        "user",
        user.id,
        ws.id,
        "owner",
    )
    assert digest(tokens.refresh_token) in {h for _, h in env.store.refresh.values()}
    assert tokens.refresh_token not in repr(env.store.refresh)
    forged = tokens.access_token[:-2] + ("AA" if not tokens.access_token.endswith("AA") else "BB")
    assert await _code(env.service.user_principal(forged, None)) == error_codes.TOKEN_INVALID


async def test_an_old_access_token_has_expired() -> None:
    env = Env()
    await env.service.create_user("ada@example.com", PASSWORD)
    env.clock.now = utcnow() - timedelta(hours=1)  # issued an hour ago, for 15 minutes
    tokens = await env.service.login("ada@example.com", PASSWORD)
    assert await _code(env.service.user_principal(tokens.access_token, None)) == (
        error_codes.TOKEN_EXPIRED
    )


async def test_refresh_rotates_and_a_reused_token_revokes_the_session(env: Env) -> None:
    await env.service.create_user("ada@example.com", PASSWORD)
    first = await env.service.login("ada@example.com", PASSWORD)
    second = await env.service.refresh(first.refresh_token)
    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    assert await env.service.session_active(first.session_id)
    # the first token again: someone replayed it, so the whole session ends
    assert await _code(env.service.refresh(first.refresh_token)) == error_codes.TOKEN_INVALID
    assert await _code(env.service.refresh(second.refresh_token)) == error_codes.TOKEN_INVALID
    assert not await env.service.session_active(first.session_id)
    other = await env.service.login("ada@example.com", PASSWORD)  # other sessions unharmed
    assert (await env.service.refresh(other.refresh_token)).session_id == other.session_id
    assert await _code(env.service.refresh("rt-made-up")) == error_codes.TOKEN_INVALID


async def test_a_refresh_token_expires(env: Env) -> None:
    await env.service.create_user("ada@example.com", PASSWORD)
    tokens = await env.service.login("ada@example.com", PASSWORD)
    env.clock.now += timedelta(days=31)
    assert await _code(env.service.refresh(tokens.refresh_token)) == error_codes.TOKEN_EXPIRED


async def test_logout_ends_one_session(env: Env) -> None:
    await env.service.create_user("ada@example.com", PASSWORD)
    phone = await env.service.login("ada@example.com", PASSWORD)
    laptop = await env.service.login("ada@example.com", PASSWORD)
    await env.service.logout(phone.refresh_token)
    assert not await env.service.session_active(phone.session_id)
    assert await env.service.session_active(laptop.session_id)
    assert await _code(env.service.refresh(phone.refresh_token)) == error_codes.TOKEN_INVALID
    await env.service.logout("rt-unknown")  # no error


async def test_a_password_change_ends_the_other_sessions(env: Env) -> None:
    user = await env.service.create_user("ada@example.com", PASSWORD)
    mine = await env.service.login("ada@example.com", PASSWORD)
    other = await env.service.login("ada@example.com", PASSWORD)
    assert await _code(env.service.change_password(user.id, "wrong guess", "a new password")) == (
        error_codes.INVALID_CREDENTIALS
    )
    await env.service.change_password(
        user.id, PASSWORD, "a new password", session_id=mine.session_id
    )
    assert await env.service.session_active(mine.session_id)
    assert not await env.service.session_active(other.session_id)
    assert await _code(env.service.login("ada@example.com", PASSWORD)) == (
        error_codes.INVALID_CREDENTIALS
    )
    await env.service.login("ada@example.com", "a new password")
    await env.service.set_password(user.id, "operator reset!")  # a reset ends them all
    assert not await env.service.session_active(mine.session_id)


async def test_repeated_failures_are_slowed_then_locked() -> None:
    env = Env(AccountPolicy(slow_after=2, lock_after=4, failure_window=timedelta(minutes=10)))
    await env.service.create_user("ada@example.com", PASSWORD)
    for _ in range(4):
        await _code(env.service.login("ada@example.com", "guess", client="10.0.0.9"))
    assert env.delays == [0.25, 0.5]  # the third and fourth answers were delayed
    with pytest.raises(AccountLockedError) as locked:  # even with the right password
        await env.service.login("ada@example.com", PASSWORD)
    assert locked.value.status_code == 429 and locked.value.retry_after == 600
    with pytest.raises(AccountLockedError):  # the same client, another account
        await env.service.login("eve@example.com", "guess", client="10.0.0.9")
    env.clock.now += timedelta(minutes=11)
    assert (await env.service.login("ada@example.com", PASSWORD)).user.email == "ada@example.com"


async def test_roles_and_the_last_owner(env: Env) -> None:
    ada = await env.service.create_user("ada@example.com", PASSWORD)
    bob = await env.service.create_user("bob@example.com", PASSWORD)
    eve = await env.service.create_user("eve@example.com", PASSWORD)
    ws = await env.service.create_workspace("Team", ada.id)
    await env.service.set_member(ws.id, bob.id, "member")
    with pytest.raises(ForbiddenError) as forbidden:
        await env.service.require_role(ws.id, bob.id, "editor")
    assert "'editor'" in forbidden.value.message and forbidden.value.status_code == 403
    assert (await env.service.require_role(ws.id, ada.id, "admin")).role == "owner"
    # not a member: the workspace is "not found", never "forbidden"
    assert await _code(env.service.require_role(ws.id, eve.id, "member")) == (
        error_codes.WORKSPACE_NOT_FOUND
    )
    assert await _code(env.service.set_member(ws.id, ada.id, "admin")) == error_codes.LAST_OWNER
    assert await _code(env.service.remove_member(ws.id, ada.id)) == error_codes.LAST_OWNER
    await env.service.set_member(ws.id, bob.id, "owner")
    await env.service.remove_member(ws.id, ada.id)  # bob still owns it
    assert [m.user_id for m in await env.store.list_members(ws.id)] == [bob.id]


async def test_keys_are_shown_once_scoped_and_revocable(env: Env) -> None:
    ada = await env.service.create_user("ada@example.com", PASSWORD)
    ws = await env.service.create_workspace("Team", ada.id)
    other = await env.service.create_workspace("Other", ada.id)
    created = await env.service.create_key(ws.id, "ci", scopes=["read"], created_by=ada.id)
    assert created.secret.startswith("ck-") and created.secret not in created.key.model_dump_json()
    assert created.secret.startswith(created.key.prefix) and len(created.key.prefix) < 12
    principal = await env.service.key_principal(created.secret)
    assert (principal.kind, principal.workspace_id, principal.scopes) == (
        "workspace_key",
        ws.id,
        ["read"],
    )
    assert (await env.store.list_keys(ws.id))[0].last_used_at == env.clock.now
    app_key = await env.service.create_key(ws.id, "widget", app_id="app_1")
    assert app_key.secret.startswith("app-")
    assert (await env.service.key_principal(app_key.secret)).app_id == "app_1"
    with pytest.raises(InvalidInputError):
        await env.service.create_key(ws.id, "x", scopes=["read"], app_id="app_1")
    with pytest.raises(InvalidInputError):
        await env.service.create_key(ws.id, "x")
    assert await _code(env.service.revoke_key(other.id, created.key.id)) == (
        error_codes.KEY_NOT_FOUND
    )
    await env.service.revoke_key(ws.id, created.key.id)
    assert await _code(env.service.key_principal(created.secret)) == error_codes.KEY_REVOKED
    assert await _code(env.service.key_principal("ck-unknown")) == error_codes.UNAUTHORIZED
    expiring = await env.service.create_key(
        ws.id, "temp", scopes=["write"], expires_at=env.clock.now + timedelta(hours=1)
    )
    env.clock.now += timedelta(hours=2)
    assert await _code(env.service.key_principal(expiring.secret)) == error_codes.KEY_EXPIRED


async def test_a_user_acts_only_in_their_workspaces(env: Env) -> None:
    ada = await env.service.create_user("ada@example.com", PASSWORD)
    eve = await env.service.create_user("eve@example.com", PASSWORD)
    mine = await env.service.create_workspace("Ada's", ada.id)
    theirs = await env.service.create_workspace("Eve's", eve.id)
    tokens = await env.service.login("ada@example.com", PASSWORD)
    assert (await env.service.user_principal(tokens.access_token, mine.id)).role == "owner"
    assert await _code(env.service.user_principal(tokens.access_token, theirs.id)) == (
        error_codes.WORKSPACE_NOT_FOUND
    )


# -- invitations ------------------------------------------------------------------------


async def _team(env: Env) -> tuple[str, str]:
    owner = await env.service.create_user("owner@example.com", PASSWORD)
    team = await env.service.create_workspace("Team", owner.id)
    return team.id, owner.id


async def test_an_invitation_makes_the_account_and_is_used_once(env: Env) -> None:
    team, owner = await _team(env)
    by_owner = Actor(kind="user", id=owner, ip="10.1.1.1")
    made = await env.service.invite(team, " New@Example.com", "editor", actor=by_owner)
    assert made.invitation.email == "new@example.com" and made.invitation.invited_by == owner
    assert made.token not in repr(env.store.invitations)  # only its hash is stored
    assert [i.id for i in await env.service.list_invitations(team)] == [made.invitation.id]

    member, tokens = await env.service.accept_invitation(made.token, PASSWORD, display_name="N")
    assert member.role == "editor" and member.user_id == tokens.user.id
    assert tokens.user.email == "new@example.com" and tokens.user.display_name == "N"
    who = await env.service.user_principal(tokens.access_token, team)
    assert who.role == "editor"
    assert await env.service.list_invitations(team) == []
    assert await _code(env.service.accept_invitation(made.token, PASSWORD)) == (
        error_codes.INVITATION_INVALID
    )


async def test_an_existing_account_accepts_with_its_own_password(env: Env) -> None:
    team, _ = await _team(env)
    bob = await env.service.create_user("bob@example.com", PASSWORD)
    made = await env.service.invite(team, "bob@example.com", "member")
    assert await _code(env.service.accept_invitation(made.token, "not the password")) == (
        error_codes.INVALID_CREDENTIALS
    )
    member, tokens = await env.service.accept_invitation(made.token, PASSWORD)
    assert member.user_id == bob.id and tokens.user.id == bob.id
    again = await _code(env.service.invite(team, "BOB@example.com", "admin"))
    assert again == error_codes.ALREADY_MEMBER


async def test_revoked_and_expired_invitations_are_one_answer(env: Env) -> None:
    team, _ = await _team(env)
    revoked = await env.service.invite(team, "r@example.com", "member")
    await env.service.revoke_invitation(team, revoked.invitation.id)
    expired = await env.service.invite(team, "e@example.com", "member")
    env.clock.now += timedelta(days=8)
    for token in (revoked.token, expired.token, "inv-" + secrets.token_urlsafe(16)):
        assert await _code(env.service.accept_invitation(token, PASSWORD)) == (
            error_codes.INVITATION_INVALID
        )
    assert await env.store.find_user("r@example.com") is None  # nothing was made
    someone = await env.service.create_user("someone@example.com", PASSWORD)
    other = await env.service.create_workspace("Other", someone.id)
    assert await _code(env.service.revoke_invitation(other.id, expired.invitation.id)) == (
        error_codes.INVITATION_INVALID
    )


# -- the audit log ----------------------------------------------------------------------


async def test_the_audit_log_records_who_did_what_and_never_a_secret(env: Env) -> None:
    team, owner = await _team(env)
    ada = Actor(kind="user", id=owner, ip="192.0.2.7")

    def tick() -> None:
        env.clock.now += timedelta(seconds=1)

    tick()
    with pytest.raises(UnauthorizedError):
        await env.service.login("owner@example.com", "wrong password", client="192.0.2.9")
    tick()
    await env.service.login("owner@example.com", PASSWORD, client="192.0.2.7")
    tick()
    key = await env.service.create_key(team, "ci", scopes=["read"], actor=ada)
    tick()
    await env.service.revoke_key(team, key.key.id, actor=ada)
    tick()
    invited = await env.service.invite(team, "x@example.com", "member", actor=ada)

    events = await env.store.list_audit(team)
    assert [e.action for e in events[:5]] == [
        "invitation.created",
        "key.revoked",
        "key.created",
        "login.succeeded",
        "login.failed",
    ]
    assert {e.action for e in events[5:]} == {"workspace.created", "user.created"}  # at once
    failed = events[4]
    assert failed.actor.kind == "anonymous" and failed.actor.ip == "192.0.2.9"
    assert failed.user_id == owner and failed.workspace_id is None
    assert events[2].actor == ada and events[2].details["name"] == "ci"
    everything = repr(env.store.audit)
    for secret in (PASSWORD, key.secret, invited.token):
        assert secret not in everything
    # the instance's own view holds logins, not what happened in the workspace
    assert {e.action for e in await env.store.list_audit(None)} == {
        "user.created",
        "workspace.created",
        "login.failed",
        "login.succeeded",
    }
