"""The durable store of crews and their runs (CrewStoreProtocol on SQLAlchemy).

Crews and their runs are the generic workspace-owned repository
(:mod:`cluster.store.repository`): another workspace's crew or run is "not found",
a run row is updated in place as the run finishes, deleting a crew keeps its runs.
"""

from __future__ import annotations

from agents.crews.records import CrewRecord, CrewRunRecord
from agents.crews.store import CREW
from cluster.store.repository import SqlRunRepository
from cluster.store.tables.crews import CrewRow, CrewRunRow


class SqlCrewStore(SqlRunRepository[CrewRecord, CrewRow, CrewRunRecord]):
    """CrewStoreProtocol on a SQL database; call ``start()`` before use."""

    kind = CREW
    rows = CrewRow
    run_rows = CrewRunRow
    run_model = CrewRunRecord

    create_crew = SqlRunRepository.create_record
    get_crew = SqlRunRepository.get_record
    list_crews = SqlRunRepository.list_records
    delete_crew = SqlRunRepository.delete_record

    def fill_row(self, row: CrewRow, record: CrewRecord) -> None:
        row.name, row.spec = record.spec.name, record.spec.model_dump(mode="json")

    def to_record(self, row: CrewRow) -> CrewRecord:
        return CrewRecord.model_validate(self.owned_fields(row) | {"spec": row.spec})
