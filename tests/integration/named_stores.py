"""The crews' repository under the names its tests were written with.

Crews have no store of their own: their service calls the generic repository's methods
(``agents.repository``); these subclasses name them as the tests call them
(``create_crew``, ...).
"""

from __future__ import annotations

from agents.crews.records import CREW, CrewRecord, CrewRunRecord
from agents.repository import InMemoryRunRepository
from cluster.store import Database, SqlRunRepository


class InMemoryCrewStore(InMemoryRunRepository[CrewRecord, CrewRunRecord]):
    def __init__(self) -> None:
        super().__init__(CREW)

    create_crew = InMemoryRunRepository.create_record
    get_crew = InMemoryRunRepository.get_record
    list_crews = InMemoryRunRepository.list_records
    delete_crew = InMemoryRunRepository.delete_record


class SqlCrewStore(SqlRunRepository[CrewRecord, CrewRunRecord]):
    def __init__(self, database: Database | str) -> None:
        super().__init__(database, CREW, CrewRecord, CrewRunRecord)

    create_crew = SqlRunRepository.create_record
    get_crew = SqlRunRepository.get_record
    list_crews = SqlRunRepository.list_records
    delete_crew = SqlRunRepository.delete_record


CrewStoreProtocol = InMemoryCrewStore | SqlCrewStore
