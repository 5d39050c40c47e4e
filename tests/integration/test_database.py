"""One Database per process: every store on it shares its engine, it migrates once however
many stores start it (and at once), and a store closes only a database it opened."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

import cluster.store.database as database_module
from agents.apps.spec import AppSpec
from agents.crews.records import CrewRecord
from agents.crews.spec import CrewSpec
from agents.errors import UpstreamUnavailableError
from agents.knowledge.records import KnowledgeBaseRecord
from agents.tools.records import ToolProviderRecord
from cluster.store import (
    Database,
    SqlConversationStore,
    SqlKnowledgeStore,
    SqlToolProviderStore,
    SqlWorkflowStore,
)
from tests.integration import postgres
from tests.integration.named_stores import SqlCrewStore

pytestmark = pytest.mark.integration
HEAD = "0008"
CREW = CrewSpec.model_validate(
    {
        "name": "crew",
        "agents": [{"id": "a", "role": "R", "goal": "G", "backstory": "B"}],
        "tasks": [{"id": "t", "description": "D", "expected_output": "O", "agent": "a"}],
    }
)


def stores_on(db: Database) -> list[Any]:
    return [
        SqlConversationStore(db),
        SqlKnowledgeStore(db),
        SqlWorkflowStore(db),
        SqlToolProviderStore(db),
        SqlCrewStore(db),
    ]


async def test_every_store_starts_one_database_that_migrates_once(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations: list[str | None] = []
    upgrade = database_module.upgrade_to_head

    async def counted(engine: Any) -> str | None:
        migrations.append(revision := await upgrade(engine))
        return revision

    monkeypatch.setattr(database_module, "upgrade_to_head", counted)
    db = Database(empty_database_url)
    stores = stores_on(db)
    try:
        await asyncio.gather(db.start(), *(store.start() for store in stores))
        await asyncio.gather(*(store.start() for store in stores))
        assert migrations == [HEAD]
        assert {store.database.engine for store in stores} == {db.engine}
        assert {store.backend for store in stores} == {db.backend}
    finally:
        await db.close()


async def test_stores_on_one_database_share_a_workspace(
    empty_database_url: str,
) -> None:
    ws = f"ws_{uuid.uuid4().hex}"
    db = Database(empty_database_url)
    conversations, knowledge, _, tools, crews = stores_on(db)
    await db.start()
    try:
        app, kb, provider, made = await asyncio.gather(
            conversations.create_app(ws, AppSpec(name="a")),
            knowledge.create_kb(
                KnowledgeBaseRecord(id=f"kb_{uuid.uuid4().hex}", workspace_id=ws, name="kb")
            ),
            tools.create_provider(ToolProviderRecord(workspace_id=ws, name="t", document={})),
            crews.create_crew(CrewRecord(workspace_id=ws, spec=CREW)),
        )
        await crews.close()  # a shared database stays open for the other stores
        assert (await conversations.get_app(ws, app.id)).id == app.id
        assert await knowledge.list_kbs(ws) == [kb]
        assert await tools.list_providers(ws) == [provider]
        assert await crews.get_crew(ws, made.id) == made
    finally:
        await db.close()


async def test_a_failed_start_is_tried_again() -> None:
    port = postgres.free_port()
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none")
    store = SqlCrewStore(db)
    for start in (db.start, store.start):
        with pytest.raises(UpstreamUnavailableError) as err:
            await start()
        assert err.value.code == "store_unavailable"
    await db.close()
