"""Where crews and their runs live: the protocol, and an in-memory store for tests."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents.crews.records import CrewRecord, CrewRunRecord
from agents.errors import NotFoundError


@runtime_checkable
class CrewStoreProtocol(Protocol):
    async def create_crew(self, record: CrewRecord) -> CrewRecord: ...

    async def get_crew(self, workspace_id: str, crew_id: str) -> CrewRecord:
        """Raises NotFoundError (code crew_not_found), also for another workspace's crew."""
        ...

    async def list_crews(self, workspace_id: str) -> list[CrewRecord]:
        """Oldest first."""
        ...

    async def delete_crew(self, workspace_id: str, crew_id: str) -> None:
        """The crew goes; its runs' history stays."""
        ...

    async def save_run(self, run: CrewRunRecord) -> None:
        """Insert or update the run."""
        ...

    async def get_run(self, workspace_id: str, run_id: str) -> CrewRunRecord:
        """Raises NotFoundError (code run_not_found), also for another workspace's run."""
        ...

    async def list_runs(self, workspace_id: str, crew_id: str) -> list[CrewRunRecord]:
        """The crew's runs, newest first."""
        ...


def crew_not_found(crew_id: str) -> NotFoundError:
    return NotFoundError(f"crew {crew_id} not found", code="crew_not_found", param="crew_id")


def run_not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"run {run_id} not found", code="run_not_found", param="run_id")


class InMemoryCrewStore:
    def __init__(self) -> None:
        self.crews: dict[str, CrewRecord] = {}
        self.runs: dict[str, CrewRunRecord] = {}

    async def create_crew(self, record: CrewRecord) -> CrewRecord:
        self.crews[record.id] = record.model_copy(deep=True)
        return record

    async def get_crew(self, workspace_id: str, crew_id: str) -> CrewRecord:
        record = self.crews.get(crew_id)
        if record is None or record.workspace_id != workspace_id:
            raise crew_not_found(crew_id)
        return record.model_copy(deep=True)

    async def list_crews(self, workspace_id: str) -> list[CrewRecord]:
        found = [c for c in self.crews.values() if c.workspace_id == workspace_id]
        return [c.model_copy(deep=True) for c in sorted(found, key=lambda c: c.created_at)]

    async def delete_crew(self, workspace_id: str, crew_id: str) -> None:
        await self.get_crew(workspace_id, crew_id)
        del self.crews[crew_id]

    async def save_run(self, run: CrewRunRecord) -> None:
        self.runs[run.id] = run.model_copy(deep=True)

    async def get_run(self, workspace_id: str, run_id: str) -> CrewRunRecord:
        run = self.runs.get(run_id)
        if run is None or run.workspace_id != workspace_id:
            raise run_not_found(run_id)
        return run.model_copy(deep=True)

    async def list_runs(self, workspace_id: str, crew_id: str) -> list[CrewRunRecord]:
        found = [
            r for r in self.runs.values() if r.workspace_id == workspace_id and r.crew_id == crew_id
        ]
        return [r.model_copy(deep=True) for r in sorted(found, key=lambda r: r.started_at)][::-1]
