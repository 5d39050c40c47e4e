"""Where crews and their runs live: the protocol, and an in-memory store for tests."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents import error_codes
from agents.crews.records import CrewRecord, CrewRunRecord
from agents.repository import InMemoryRunRepository, RecordKind

CREW = RecordKind("crew", error_codes.CREW_NOT_FOUND, "crew_id")


@runtime_checkable
class CrewStoreProtocol(Protocol):
    async def create_crew(self, record: CrewRecord) -> CrewRecord:
        """Refuses an id that exists (InvalidInputError)."""
        ...

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


class InMemoryCrewStore(InMemoryRunRepository[CrewRecord, CrewRunRecord]):
    kind = CREW

    create_crew = InMemoryRunRepository.create_record
    get_crew = InMemoryRunRepository.get_record
    list_crews = InMemoryRunRepository.list_records
    delete_crew = InMemoryRunRepository.delete_record
