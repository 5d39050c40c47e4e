"""The crews' and workflows' repositories under the names their tests were written with.

Their services call the generic repository's methods (``agents.repository``); these
subclasses name them as the tests call them (``create_crew``, ``get_workflow``, ...).
"""

from __future__ import annotations

from agents.crews.records import CREW, CrewRecord, CrewRunRecord
from agents.repository import InMemoryRunRepository
from agents.workflows import store as workflows
from cluster.store import Database, SqlRunRepository, workflow_store


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


class InMemoryWorkflowStore(workflows.InMemoryWorkflowStore):
    create_workflow = InMemoryRunRepository.create_record
    get_workflow = InMemoryRunRepository.get_record
    list_workflows = InMemoryRunRepository.list_records
    update_workflow = InMemoryRunRepository.update_record
    delete_workflow = InMemoryRunRepository.delete_record


class SqlWorkflowStore(workflow_store.SqlWorkflowStore):
    create_workflow = SqlRunRepository.create_record
    get_workflow = SqlRunRepository.get_record
    list_workflows = SqlRunRepository.list_records
    update_workflow = SqlRunRepository.update_record
    delete_workflow = SqlRunRepository.delete_record


CrewStoreProtocol = InMemoryCrewStore | SqlCrewStore
WorkflowStoreProtocol = InMemoryWorkflowStore | SqlWorkflowStore
