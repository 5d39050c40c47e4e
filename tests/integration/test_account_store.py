"""The contract of AccountStoreProtocol: the in-memory fake, SQLite and a real PostgreSQL.

Users are the instance's, not a workspace's, and the PostgreSQL database is shared by
the session: every test makes its own emails, families and login subjects.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.accounts.errors import ConflictError
from agents.accounts.records import (
    Actor,
    ApiKeyRecord,
    AuditRecord,
    InvitationRecord,
    MembershipRecord,
    RefreshTokenRecord,
    UserRecord,
    WorkspaceRecord,
)
from agents.accounts.store import AccountStoreProtocol, InMemoryAccountStore
from agents.errors import NotFoundError
from agents.ids import new_id
from cluster.store import SqlAccountStore
from cluster.store.tables.accounts import UserRow
from tests.integration.stores import StoreOpener

pytestmark = pytest.mark.integration

#: A fixed past instant, and the ones after it, so that orders and cut-offs are strict.
PAST = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LATER = PAST + timedelta(minutes=1)
LAST = PAST + timedelta(minutes=2)


@pytest.fixture
async def store(open_store: StoreOpener) -> AccountStoreProtocol:
    return await open_store(InMemoryAccountStore, SqlAccountStore)


@pytest.fixture
async def sql_store(database_url: str) -> AsyncIterator[SqlAccountStore]:
    """The SQL store alone, for what only it does (the fake has no unnamed workspaces and
    leaves lower-casing to the service)."""
    store = SqlAccountStore(database_url)
    await store.start()
    yield store
    await store.close()


def email() -> str:
    return f"user-{uuid.uuid4().hex}@example.com"


def user(**fields: Any) -> UserRecord:
    values: dict[str, Any] = {"id": new_id("user"), "email": email(), "display_name": "Ada"}
    return UserRecord(**(values | fields))


def refresh_token(user_id: str, family_id: str, **fields: Any) -> RefreshTokenRecord:
    values: dict[str, Any] = {
        "id": new_id("rt"),
        "family_id": family_id,
        "user_id": user_id,
        "created_at": PAST,
        "expires_at": PAST + timedelta(days=30),
    }
    return RefreshTokenRecord(**(values | fields))


def api_key(ws: str, **fields: Any) -> ApiKeyRecord:
    values: dict[str, Any] = {
        "id": new_id("key"),
        "workspace_id": ws,
        "name": "ci",
        "kind": "workspace",
        "scopes": ["read", "write"],
        "prefix": "ck-ab12",
    }
    return ApiKeyRecord(**(values | fields))


def secret_hash() -> str:
    return f"sha256:{uuid.uuid4().hex}"


async def not_found(call: Any) -> NotFoundError:
    with pytest.raises(NotFoundError) as err:
        await call
    return err.value


async def test_implements_the_protocol(store: AccountStoreProtocol) -> None:
    assert isinstance(store, AccountStoreProtocol)


# -- users ---------------------------------------------------------------------------------


async def test_create_get_find_and_list_users(store: AccountStoreProtocol) -> None:
    first = await store.create_user(user(created_at=PAST, language="zh-CN"), "hash-1")
    second = await store.create_user(user(created_at=LATER, operator=True), "hash-2")
    assert await store.get_user(first.id) == first
    assert await store.get_user(second.id) == second
    got = await store.get_user(first.id)
    assert (got.created_at, got.language, got.operator) == (PAST, "zh-CN", False)
    assert (await store.get_user(second.id)).operator is True

    assert await store.find_user(first.email) == (first, "hash-1")
    assert await store.find_user(second.email.upper()) == (second, "hash-2")
    assert await store.find_user(email()) is None

    mine = {first.id, second.id}
    assert [u.id for u in await store.list_users() if u.id in mine] == [first.id, second.id]
    err = await not_found(store.get_user(new_id("user")))
    assert err.code == "user_not_found"


async def test_a_taken_email_is_refused(store: AccountStoreProtocol) -> None:
    taken = await store.create_user(user(), "hash-1")
    with pytest.raises(ConflictError) as err:
        await store.create_user(user(email=taken.email, display_name="Bob"), "hash-2")
    assert (err.value.code, err.value.param) == ("email_taken", "email")
    assert await store.find_user(taken.email) == (taken, "hash-1")


async def test_set_password(store: AccountStoreProtocol) -> None:
    record = await store.create_user(user(), "old")
    await store.set_password(record.id, "new")
    assert await store.find_user(record.email) == (record, "new")
    err = await not_found(store.set_password(new_id("user"), "new"))
    assert err.code == "user_not_found"


# -- workspaces and members ----------------------------------------------------------------


async def test_create_workspace_is_idempotent(
    store: AccountStoreProtocol, ws: str, other_ws: str
) -> None:
    team = WorkspaceRecord(id=ws, name="Team", created_at=PAST)
    assert await store.create_workspace(team) == team
    assert await store.create_workspace(WorkspaceRecord(id=ws, name="Other")) == team
    assert await store.get_workspace(ws) == team
    err = await not_found(store.get_workspace(other_ws))
    assert err.code == "workspace_not_found"


async def test_put_member_adds_or_changes_the_role(
    store: AccountStoreProtocol, ws: str, other_ws: str
) -> None:
    for workspace_id in (ws, other_ws):
        await store.create_workspace(WorkspaceRecord(id=workspace_id, name=workspace_id))
    ada = await store.create_user(user(), "hash")
    bob = await store.create_user(user(display_name="Bob"), "hash")
    owner = MembershipRecord(workspace_id=ws, user_id=ada.id, role="owner", created_at=PAST)
    member = MembershipRecord(workspace_id=ws, user_id=bob.id, role="member", created_at=LATER)
    elsewhere = MembershipRecord(
        workspace_id=other_ws, user_id=ada.id, role="editor", created_at=LAST
    )
    assert await store.put_member(member) == member
    assert await store.put_member(owner) == owner
    assert await store.put_member(elsewhere) == elsewhere

    promoted = await store.put_member(
        member.model_copy(update={"role": "admin", "created_at": LAST})
    )
    assert promoted == member.model_copy(update={"role": "admin"})  # joined when it joined
    assert await store.get_member(ws, bob.id) == promoted
    assert await store.get_member(other_ws, bob.id) is None
    assert await store.list_members(ws) == [owner, promoted]
    assert await store.list_members(other_ws) == [elsewhere]
    assert await store.list_memberships(ada.id) == [owner, elsewhere]
    assert await store.list_memberships(bob.id) == [promoted]


async def test_put_member_needs_the_workspace_and_the_user(
    store: AccountStoreProtocol, ws: str, other_ws: str
) -> None:
    await store.create_workspace(WorkspaceRecord(id=ws, name="Team"))
    ada = await store.create_user(user(), "hash")
    err = await not_found(
        store.put_member(MembershipRecord(workspace_id=other_ws, user_id=ada.id, role="owner"))
    )
    assert err.code == "workspace_not_found"
    err = await not_found(
        store.put_member(MembershipRecord(workspace_id=ws, user_id=new_id("user"), role="owner"))
    )
    assert err.code == "user_not_found"
    assert await store.list_members(ws) == []


async def test_remove_member(store: AccountStoreProtocol, ws: str) -> None:
    await store.create_workspace(WorkspaceRecord(id=ws, name="Team"))
    ada = await store.create_user(user(), "hash")
    bob = await store.create_user(user(), "hash")
    for who in (ada, bob):
        await store.put_member(MembershipRecord(workspace_id=ws, user_id=who.id, role="member"))
    await store.remove_member(ws, bob.id)
    assert await store.get_member(ws, bob.id) is None
    assert [m.user_id for m in await store.list_members(ws)] == [ada.id]
    assert await store.list_memberships(bob.id) == []
    err = await not_found(store.remove_member(ws, bob.id))
    assert err.code == "user_not_found"


# -- refresh tokens ------------------------------------------------------------------------


async def test_a_refresh_token_is_found_by_its_hash_and_used_once(
    store: AccountStoreProtocol,
) -> None:
    ada = await store.create_user(user(), "hash")
    token, token_hash = refresh_token(ada.id, new_id("fam")), secret_hash()
    await store.add_refresh_token(token, token_hash)
    assert await store.find_refresh_token(token_hash) == token
    assert await store.find_refresh_token(secret_hash()) is None

    assert await store.use_refresh_token(token.id, LATER) is True
    assert await store.use_refresh_token(token.id, LAST) is False
    assert await store.find_refresh_token(token_hash) == token.model_copy(update={"used_at": LATER})


async def test_one_of_concurrent_uses_wins(store: AccountStoreProtocol) -> None:
    ada = await store.create_user(user(), "hash")
    token = refresh_token(ada.id, new_id("fam"))
    await store.add_refresh_token(token, secret_hash())
    used = await asyncio.gather(*(store.use_refresh_token(token.id, LATER) for _ in range(6)))
    assert sorted(used) == [False] * 5 + [True]


async def test_revoke_one_session_or_all_but_one(store: AccountStoreProtocol) -> None:
    ada = await store.create_user(user(), "hash")
    bob = await store.create_user(user(), "hash")
    phone, laptop, tablet, bobs = (new_id("fam") for _ in range(4))
    hashes: dict[str, str] = {}
    for owner, family in ((ada, phone), (ada, phone), (ada, laptop), (ada, tablet), (bob, bobs)):
        token = refresh_token(owner.id, family)
        hashes[token.id] = secret_hash()
        await store.add_refresh_token(token, hashes[token.id])
    assert not any([await store.session_revoked(f) for f in (phone, laptop, tablet, bobs)])
    assert await store.session_revoked(new_id("fam"))  # no tokens: no session

    await store.revoke_sessions(ada.id, PAST, family_id=phone)
    assert [await store.session_revoked(f) for f in (phone, laptop, tablet, bobs)] == [
        True,
        False,
        False,
        False,
    ]
    await store.revoke_sessions(ada.id, LATER, keep=laptop)
    assert [await store.session_revoked(f) for f in (phone, laptop, tablet, bobs)] == [
        True,
        False,
        True,
        False,
    ]
    tokens = [await store.find_refresh_token(h) for h in hashes.values()]
    revoked = {t.family_id: t.revoked_at for t in tokens if t is not None}
    assert revoked == {phone: PAST, laptop: None, tablet: LATER, bobs: None}

    await store.revoke_sessions(ada.id, LAST)  # all: the first revocation stays
    tokens = [await store.find_refresh_token(h) for h in hashes.values()]
    revoked = {t.family_id: t.revoked_at for t in tokens if t is not None}
    assert revoked == {phone: PAST, laptop: LAST, tablet: LATER, bobs: None}
    assert not await store.session_revoked(bobs)


# -- API keys ------------------------------------------------------------------------------


async def test_add_find_list_and_touch_keys(
    store: AccountStoreProtocol, ws: str, other_ws: str
) -> None:
    await store.create_workspace(WorkspaceRecord(id=ws, name="Team"))
    ada = await store.create_user(user(), "hash")
    workspace_key = api_key(ws, created_by=ada.id, created_at=PAST, expires_at=LAST)
    app_key = api_key(
        ws, kind="app", scopes=[], app_id="app_1", prefix="app-cd34", created_at=LATER
    )
    hashes = [secret_hash(), secret_hash()]
    assert await store.add_key(workspace_key, hashes[0]) == workspace_key
    assert await store.add_key(app_key, hashes[1]) == app_key

    assert await store.find_key(hashes[0]) == workspace_key
    assert await store.find_key(hashes[1]) == app_key
    assert await store.find_key(secret_hash()) is None
    assert await store.list_keys(ws) == [workspace_key, app_key]
    assert await store.list_keys(other_ws) == []

    await store.touch_key(app_key.id, LAST)
    touched = app_key.model_copy(update={"last_used_at": LAST})
    assert await store.find_key(hashes[1]) == touched
    assert await store.list_keys(ws) == [workspace_key, touched]


async def test_revoke_a_key(store: AccountStoreProtocol, ws: str, other_ws: str) -> None:
    await store.create_workspace(WorkspaceRecord(id=ws, name="Team"))
    key, key_hash = api_key(ws, created_at=PAST), secret_hash()
    await store.add_key(key, key_hash)

    for workspace_id, key_id in ((other_ws, key.id), (ws, new_id("key"))):
        err = await not_found(store.revoke_key(workspace_id, key_id, LATER))
        assert err.code == "key_not_found"
    assert (await store.find_key(key_hash)) == key  # another workspace revoked nothing

    revoked = key.model_copy(update={"revoked_at": LATER})
    assert await store.revoke_key(ws, key.id, LATER) == revoked
    assert await store.revoke_key(ws, key.id, LAST) == revoked  # the first time stays
    assert await store.find_key(key_hash) == revoked
    assert await store.list_keys(ws) == [revoked]


# -- failed logins -------------------------------------------------------------------------


async def test_login_failures_are_counted_since_a_time_and_cleared(
    store: AccountStoreProtocol,
) -> None:
    subject, other = email(), email()
    for at in (PAST, LATER, LAST):
        await store.add_login_failure(subject, at)
    await store.add_login_failure(other, LAST)
    assert await store.count_login_failures(subject, PAST) == 3
    assert await store.count_login_failures(subject, LATER) == 2
    assert await store.count_login_failures(subject, LAST + timedelta(seconds=1)) == 0
    await store.clear_login_failures(subject)
    assert await store.count_login_failures(subject, PAST) == 0
    assert await store.count_login_failures(other, PAST) == 1
    await store.clear_login_failures(subject)  # nothing left: no error


# -- invitations and the audit log ----------------------------------------------------------


def invitation(ws: str, **fields: Any) -> InvitationRecord:
    values: dict[str, Any] = {
        "id": new_id("inv"),
        "workspace_id": ws,
        "email": email(),
        "role": "editor",
        "created_at": PAST,
        "expires_at": LAST,
    }
    return InvitationRecord(**(values | fields))


async def test_invitations_are_found_by_hash_listed_and_closed_once(
    store: AccountStoreProtocol, ws: str, other_ws: str
) -> None:
    await store.create_workspace(WorkspaceRecord(id=ws, name="Team"))
    ada = await store.create_user(user(), "hash")
    first, second = invitation(ws), invitation(ws, created_at=LATER)
    hashes = secret_hash(), secret_hash()
    await store.add_invitation(first, hashes[0])
    await store.add_invitation(second, hashes[1])
    assert await store.find_invitation(hashes[1]) == second
    assert await store.find_invitation(secret_hash()) is None
    assert await store.list_invitations(ws) == [first, second]
    assert await store.list_invitations(other_ws) == []

    assert await store.close_invitation(other_ws, first.id, LATER, accepted_by=ada.id) is None
    accepted = first.model_copy(update={"accepted_at": LATER, "accepted_by": ada.id})
    results = await asyncio.gather(
        *(store.close_invitation(ws, first.id, LATER, accepted_by=ada.id) for _ in range(3))
    )
    assert [r for r in results if r is not None] == [accepted]  # used once
    assert await store.close_invitation(ws, first.id, LAST) is None  # not revoked after
    revoked = await store.close_invitation(ws, second.id, LAST)
    assert revoked == second.model_copy(update={"revoked_at": LAST})
    assert await store.list_invitations(ws) == []
    assert await store.find_invitation(hashes[0]) == accepted


async def test_the_audit_log_by_workspace_with_its_members_logins(
    store: AccountStoreProtocol, ws: str, other_ws: str
) -> None:
    await store.create_workspace(WorkspaceRecord(id=ws, name="Team"))
    ada = await store.create_user(user(), "hash")
    bob = await store.create_user(user(), "hash")
    await store.put_member(MembershipRecord(workspace_id=ws, user_id=ada.id, role="owner"))
    by_ada = Actor(kind="user", id=ada.id, ip="10.0.0.1")
    events = [
        AuditRecord(id=new_id("aud"), at=PAST, action="login.succeeded", actor=by_ada,
                    user_id=ada.id),
        AuditRecord(id=new_id("aud"), at=LATER, workspace_id=ws, action="key.created",
                    actor=by_ada, target="key_1", details={"name": "ci", "app_id": None}),
        AuditRecord(id=new_id("aud"), at=LATER, action="login.failed",
                    actor=Actor(kind="anonymous"), user_id=bob.id),
        AuditRecord(id=new_id("aud"), at=LAST, workspace_id=other_ws, action="key.revoked",
                    actor=Actor(kind="user", id=bob.id)),
    ]  # fmt: skip
    for event in events:
        await store.add_audit(event)
    assert await store.list_audit(ws) == [events[1], events[0]]  # bob is no member
    assert await store.list_audit(ws, before=LATER) == [events[0]]
    assert await store.list_audit(ws, limit=1) == [events[1]]
    assert await store.list_audit(other_ws) == [events[3]]
    instance = await store.list_audit(None)
    assert events[1] not in instance and events[3] not in instance
    assert {events[0].id, events[2].id} <= {e.id for e in instance}


# -- SQL only ------------------------------------------------------------------------------


async def test_emails_are_stored_lower_cased(sql_store: SqlAccountStore) -> None:
    mixed = email().replace("user-", "Ada.Lovelace-").replace("example.com", "Example.COM")
    record = await sql_store.create_user(user(email=mixed), "hash")
    assert record.email == mixed.lower()
    assert await sql_store.get_user(record.id) == record
    with pytest.raises(ConflictError) as err:
        await sql_store.create_user(user(email=mixed.lower()), "hash")
    assert err.value.code == "email_taken"
    async with sql_store.database.session() as session:
        row = await session.get(UserRow, record.id)
    assert row is not None and (row.email, row.password_hash) == (mixed.lower(), "hash")


async def test_create_workspace_names_one_made_by_a_record(
    sql_store: SqlAccountStore, ws: str
) -> None:
    """The ``local`` workspace's case: its row is made, without a name, by the first
    record stored in it; the accounts know it only once it is named."""
    async with sql_store.database.workspace_session(ws):
        pass
    err = await not_found(sql_store.get_workspace(ws))
    assert err.code == "workspace_not_found"

    named = await sql_store.create_workspace(WorkspaceRecord(id=ws, name="Local", created_at=PAST))
    assert named.name == "Local" and named.created_at != PAST  # the row's own
    assert await sql_store.get_workspace(ws) == named
    assert await sql_store.create_workspace(WorkspaceRecord(id=ws, name="Other")) == named
