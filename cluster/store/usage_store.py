"""Daily token usage of limited subjects, kept so that quotas survive a restart.

One row per (subject, UTC day); an addition is one upsert that adds to the row, so
concurrent writers never lose each other's tokens.
"""

from __future__ import annotations

from sqlalchemy import select

from cluster.store.base_store import BaseSqlStore
from cluster.store.tables.accounts import TokenUsageRow


class SqlUsageStore(BaseSqlStore):
    """Token usage by subject and day; call ``start()`` before use."""

    async def add(self, subject_ids: list[str], day: str, tokens: int) -> None:
        if tokens <= 0 or not subject_ids:
            return
        insert = self.database.insert(TokenUsageRow).values(
            [{"subject": s, "day": day, "tokens": tokens} for s in subject_ids]
        )
        upsert = insert.on_conflict_do_update(
            index_elements=["subject", "day"],
            set_={"tokens": TokenUsageRow.tokens + insert.excluded.tokens},
        )
        async with self._session(write=True) as session:
            await session.execute(upsert)

    async def used(self, subject_id: str, day: str) -> int:
        query = select(TokenUsageRow.tokens).where(
            TokenUsageRow.subject == subject_id, TokenUsageRow.day == day
        )
        async with self._session() as session:
            return int(await session.scalar(query) or 0)
