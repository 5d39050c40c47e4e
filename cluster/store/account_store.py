"""The durable store of accounts on SQLAlchemy: SQLite or PostgreSQL.

It implements :class:`agents.accounts.store.AccountStoreProtocol` with the semantics of
``InMemoryAccountStore``. Emails are stored lower-cased, and the unique constraint on
them refuses a second account (``email_taken``). A workspace's row may exist before
the accounts know it (the ``local`` workspace, made by the first record stored in it):
until :meth:`SqlAccountStore.create_workspace` names it, it is "not found" here, as in
the fake. A change to a token's state is one conditional UPDATE, so a refresh token is
used once however many gateway replicas present it. Unlike the fake, a repeated id or
hash of a refresh token is refused (:class:`InvalidInputError`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Result, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from agents.accounts.records import (
    ApiKeyRecord,
    AuditRecord,
    InvitationRecord,
    MembershipRecord,
    RefreshTokenRecord,
    UserRecord,
    WorkspaceRecord,
)
from agents.accounts.store import email_taken, key_not_found, user_not_found, workspace_not_found
from agents.errors import InvalidInputError
from cluster.store.base_store import BaseSqlStore
from cluster.store.tables.accounts import (
    ApiKeyRow,
    AuditRow,
    InvitationRow,
    LoginFailureRow,
    MembershipRow,
    RefreshTokenRow,
    UserRow,
)
from cluster.store.tables.base import WorkspaceRow


class SqlAccountStore(BaseSqlStore):
    """AccountStoreProtocol on a SQL database; call ``start()`` before use."""

    # users

    async def create_user(self, user: UserRecord, password_hash: str) -> UserRecord:
        user = user.model_copy(update={"email": user.email.lower()})
        row = UserRow.from_record(user)
        row.password_hash = password_hash
        async with self._session(write=True) as session:
            await self._add(session, row, email_taken(user.email))
        return user

    async def get_user(self, user_id: str) -> UserRecord:
        async with self._session() as session:
            return (await self._user(session, user_id)).to_record()

    async def find_user(self, email: str) -> tuple[UserRecord, str] | None:
        async with self._session() as session:
            row = await session.scalar(select(UserRow).where(UserRow.email == email.lower()))
            return None if row is None else (row.to_record(), row.password_hash)

    async def set_password(self, user_id: str, password_hash: str) -> None:
        query = update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        async with self._session(write=True) as session:
            if _rowcount(await session.execute(query)) == 0:
                raise user_not_found()

    async def list_users(self) -> list[UserRecord]:
        query = select(UserRow).order_by(UserRow.created_at, UserRow.id)
        async with self._session() as session:
            return [row.to_record() for row in await session.scalars(query)]

    # workspaces and members

    async def create_workspace(self, workspace: WorkspaceRecord) -> WorkspaceRecord:
        """Insert it, or name the stored one if it has no name; returns what is stored."""
        insert = self.database.insert(WorkspaceRow).values(
            id=workspace.id, name=workspace.name, created_at=workspace.created_at
        )
        name_it = (
            update(WorkspaceRow)
            .where(WorkspaceRow.id == workspace.id, WorkspaceRow.name.is_(None))
            .values(name=workspace.name)
        )
        async with self._session(write=True) as session:
            await session.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
            await session.execute(name_it)
            return await self._workspace(session, workspace.id)

    async def get_workspace(self, workspace_id: str) -> WorkspaceRecord:
        async with self._session() as session:
            return await self._workspace(session, workspace_id)

    async def put_member(self, membership: MembershipRecord) -> MembershipRecord:
        values = MembershipRow.values(membership)
        upsert = self.database.insert(MembershipRow).values(values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["workspace_id", "user_id"], set_={"role": membership.role}
        )
        async with self._session(write=True) as session:
            await self._workspace(session, membership.workspace_id)
            await self._user(session, membership.user_id)
            await session.execute(upsert)
            row = await self._member(session, membership.workspace_id, membership.user_id)
            assert row is not None  # just written
            return row.to_record()

    async def get_member(self, workspace_id: str, user_id: str) -> MembershipRecord | None:
        async with self._session() as session:
            row = await self._member(session, workspace_id, user_id)
            return None if row is None else row.to_record()

    async def list_members(self, workspace_id: str) -> list[MembershipRecord]:
        return await self._members(
            MembershipRow.workspace_id == workspace_id, MembershipRow.user_id
        )

    async def list_memberships(self, user_id: str) -> list[MembershipRecord]:
        return await self._members(MembershipRow.user_id == user_id, MembershipRow.workspace_id)

    async def remove_member(self, workspace_id: str, user_id: str) -> None:
        query = delete(MembershipRow).where(
            MembershipRow.workspace_id == workspace_id, MembershipRow.user_id == user_id
        )
        async with self._session(write=True) as session:
            if _rowcount(await session.execute(query)) == 0:
                raise user_not_found()

    # refresh tokens

    async def add_refresh_token(self, token: RefreshTokenRecord, token_hash: str) -> None:
        row = RefreshTokenRow.from_record(token)
        row.token_hash = token_hash
        async with self._session(write=True) as session:
            await self._add(session, row, InvalidInputError(f"refresh token '{token.id}' exists"))

    async def find_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        query = select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
        async with self._session() as session:
            row = await session.scalar(query)
            return None if row is None else row.to_record()

    async def use_refresh_token(self, token_id: str, at: datetime) -> bool:
        """One conditional UPDATE: of concurrent callers, exactly one marks it used."""
        query = (
            update(RefreshTokenRow)
            .where(RefreshTokenRow.id == token_id, RefreshTokenRow.used_at.is_(None))
            .values(used_at=at)
        )
        async with self._session(write=True) as session:
            return _rowcount(await session.execute(query)) == 1

    async def revoke_sessions(
        self, user_id: str, at: datetime, *, family_id: str | None = None, keep: str | None = None
    ) -> None:
        query = update(RefreshTokenRow).where(
            RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None)
        )
        if family_id is not None:
            query = query.where(RefreshTokenRow.family_id == family_id)
        if keep is not None:
            query = query.where(RefreshTokenRow.family_id != keep)
        async with self._session(write=True) as session:
            await session.execute(query.values(revoked_at=at))

    async def session_revoked(self, family_id: str) -> bool:
        """True when the family has no token, or a revoked one."""
        query = select(func.count(), func.count(RefreshTokenRow.revoked_at)).where(
            RefreshTokenRow.family_id == family_id
        )
        async with self._session() as session:
            tokens, revoked = (await session.execute(query)).one()
        return tokens == 0 or revoked > 0

    # API keys

    async def add_key(self, key: ApiKeyRecord, key_hash: str) -> ApiKeyRecord:
        """Store the key (creating its workspace's row on its first use, as any record a
        workspace owns); a repeated id or hash is refused."""
        row = ApiKeyRow.from_record(key)
        row.key_hash = key_hash
        async with self._workspace_session(key.workspace_id) as session:
            await self._add(session, row, InvalidInputError(f"API key '{key.id}' exists"))
        return key

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        async with self._session() as session:
            row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))
            return None if row is None else row.to_record()

    async def list_keys(self, workspace_id: str) -> list[ApiKeyRecord]:
        query = (
            select(ApiKeyRow)
            .where(ApiKeyRow.workspace_id == workspace_id)
            .order_by(ApiKeyRow.created_at, ApiKeyRow.id)
        )
        async with self._session() as session:
            return [row.to_record() for row in await session.scalars(query)]

    async def revoke_key(self, workspace_id: str, key_id: str, at: datetime) -> ApiKeyRecord:
        """Revoked at ``at``, or when it was first revoked."""
        in_workspace = (ApiKeyRow.id == key_id, ApiKeyRow.workspace_id == workspace_id)
        revoke = (
            update(ApiKeyRow)
            .where(*in_workspace, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        async with self._session(write=True) as session:
            await session.execute(revoke)
            row = await session.scalar(select(ApiKeyRow).where(*in_workspace))
            if row is None:
                raise key_not_found()
            return row.to_record()

    async def touch_key(self, key_id: str, at: datetime) -> None:
        query = update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=at)
        async with self._session(write=True) as session:
            await session.execute(query)

    # failed logins

    async def add_login_failure(self, subject: str, at: datetime) -> None:
        async with self._session(write=True) as session:
            session.add(LoginFailureRow(subject=subject, at=at))

    async def count_login_failures(self, subject: str, since: datetime) -> int:
        query = select(func.count()).where(
            LoginFailureRow.subject == subject, LoginFailureRow.at >= since
        )
        async with self._session() as session:
            return int(await session.scalar(query) or 0)

    async def clear_login_failures(self, subject: str) -> None:
        async with self._session(write=True) as session:
            await session.execute(delete(LoginFailureRow).where(LoginFailureRow.subject == subject))

    # invitations

    async def add_invitation(self, invitation: InvitationRecord, token_hash: str) -> None:
        row = InvitationRow.from_record(invitation)
        row.token_hash = token_hash
        async with self._session(write=True) as session:
            await self._workspace(session, invitation.workspace_id)
            await self._add(session, row, InvalidInputError(f"invitation '{invitation.id}' exists"))

    async def find_invitation(self, token_hash: str) -> InvitationRecord | None:
        query = select(InvitationRow).where(InvitationRow.token_hash == token_hash)
        async with self._session() as session:
            row = await session.scalar(query)
            return None if row is None else row.to_record()

    async def list_invitations(self, workspace_id: str) -> list[InvitationRecord]:
        query = (
            select(InvitationRow)
            .where(
                InvitationRow.workspace_id == workspace_id,
                InvitationRow.accepted_at.is_(None),
                InvitationRow.revoked_at.is_(None),
            )
            .order_by(InvitationRow.created_at, InvitationRow.id)
        )
        async with self._session() as session:
            return [row.to_record() for row in await session.scalars(query)]

    async def close_invitation(
        self,
        workspace_id: str,
        invitation_id: str,
        at: datetime,
        *,
        accepted_by: str | None = None,
    ) -> InvitationRecord | None:
        """One conditional UPDATE: of concurrent callers, one closes it."""
        values = {"accepted_at": at, "accepted_by": accepted_by} if accepted_by else {}
        query = (
            update(InvitationRow)
            .where(
                InvitationRow.id == invitation_id,
                InvitationRow.workspace_id == workspace_id,
                InvitationRow.accepted_at.is_(None),
                InvitationRow.revoked_at.is_(None),
            )
            .values(values or {"revoked_at": at})
        )
        async with self._session(write=True) as session:
            if _rowcount(await session.execute(query)) == 0:
                return None
            row = await session.get(InvitationRow, invitation_id, populate_existing=True)
            assert row is not None  # just updated
            return row.to_record()

    # the audit log

    async def add_audit(self, event: AuditRecord) -> None:
        async with self._session(write=True) as session:
            session.add(AuditRow.from_record(event))

    async def list_audit(
        self, workspace_id: str | None, *, before: datetime | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        if workspace_id is None:
            where: ColumnElement[bool] = AuditRow.workspace_id.is_(None)
        else:
            members = select(MembershipRow.user_id).where(
                MembershipRow.workspace_id == workspace_id
            )
            where = or_(
                AuditRow.workspace_id == workspace_id,
                and_(AuditRow.workspace_id.is_(None), AuditRow.user_id.in_(members)),
            )
        query = select(AuditRow).where(where)
        if before is not None:
            query = query.where(AuditRow.at < before)
        query = query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        async with self._session() as session:
            return [row.to_record() for row in await session.scalars(query)]

    # helpers

    async def _user(self, session: AsyncSession, user_id: str) -> UserRow:
        row = await session.get(UserRow, user_id)
        if row is None:
            raise user_not_found()
        return row

    async def _workspace(self, session: AsyncSession, workspace_id: str) -> WorkspaceRecord:
        """The named workspace; one without a name is not the accounts' yet."""
        row = await session.get(WorkspaceRow, workspace_id, populate_existing=True)
        if row is None or row.name is None:
            raise workspace_not_found()
        return WorkspaceRecord(id=row.id, name=row.name, created_at=row.created_at)

    async def _member(
        self, session: AsyncSession, workspace_id: str, user_id: str
    ) -> MembershipRow | None:
        return await session.get(MembershipRow, (workspace_id, user_id), populate_existing=True)

    async def _members(
        self, where: ColumnElement[bool], then_by: QueryableAttribute[str]
    ) -> list[MembershipRecord]:
        """The memberships that match, oldest first."""
        query = select(MembershipRow).where(where).order_by(MembershipRow.created_at, then_by)
        async with self._session() as session:
            return [row.to_record() for row in await session.scalars(query)]


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or a DELETE matched (both drivers report it)."""
    return int(getattr(result, "rowcount", 0))
