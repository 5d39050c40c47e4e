"""The durable store of knowledge bases and documents: a protocol and an in-memory fake.

Every method takes the ``workspace_id`` first; another workspace's records are
"not found". Chunks and vectors live in the knowledge index, not here.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents import error_codes
from agents.errors import InvalidInputError, NotFoundError
from agents.ids import utcnow
from agents.knowledge.records import DocumentRecord, KnowledgeBaseRecord


@runtime_checkable
class KnowledgeStoreProtocol(Protocol):
    async def create_kb(self, record: KnowledgeBaseRecord) -> KnowledgeBaseRecord: ...
    async def get_kb(self, workspace_id: str, kb_id: str) -> KnowledgeBaseRecord: ...
    async def list_kbs(self, workspace_id: str) -> list[KnowledgeBaseRecord]: ...
    async def delete_kb(self, workspace_id: str, kb_id: str) -> None: ...

    async def add_document(self, record: DocumentRecord) -> DocumentRecord: ...
    async def update_document(self, record: DocumentRecord) -> DocumentRecord:
        """Store ``record`` (its ``updated_at`` is set to now, on the object passed too)."""
        ...

    async def get_document(
        self, workspace_id: str, kb_id: str, document_id: str
    ) -> DocumentRecord: ...
    async def list_documents(self, workspace_id: str, kb_id: str) -> list[DocumentRecord]: ...
    async def delete_document(self, workspace_id: str, kb_id: str, document_id: str) -> None: ...


class InMemoryKnowledgeStore:
    """The protocol in memory, for unit tests; the SQL store runs the same contract suite."""

    def __init__(self) -> None:
        self.kbs: dict[str, KnowledgeBaseRecord] = {}
        self.documents: dict[str, DocumentRecord] = {}

    def _kb(self, workspace_id: str, kb_id: str) -> KnowledgeBaseRecord:
        kb = self.kbs.get(kb_id)
        if kb is None or kb.workspace_id != workspace_id:
            raise NotFoundError(
                f"knowledge base '{kb_id}' not found", code=error_codes.KB_NOT_FOUND
            )
        return kb

    async def create_kb(self, record: KnowledgeBaseRecord) -> KnowledgeBaseRecord:
        if record.id in self.kbs:
            raise InvalidInputError(f"knowledge base '{record.id}' exists")
        self.kbs[record.id] = record.model_copy(deep=True)
        return record

    async def get_kb(self, workspace_id: str, kb_id: str) -> KnowledgeBaseRecord:
        return self._kb(workspace_id, kb_id).model_copy(deep=True)

    async def list_kbs(self, workspace_id: str) -> list[KnowledgeBaseRecord]:
        found = [k for k in self.kbs.values() if k.workspace_id == workspace_id]
        return [k.model_copy(deep=True) for k in sorted(found, key=lambda k: (k.created_at, k.id))]

    async def delete_kb(self, workspace_id: str, kb_id: str) -> None:
        self._kb(workspace_id, kb_id)
        del self.kbs[kb_id]
        for doc_id in [d.id for d in self.documents.values() if d.kb_id == kb_id]:
            del self.documents[doc_id]

    async def add_document(self, record: DocumentRecord) -> DocumentRecord:
        self._kb(record.workspace_id, record.kb_id)
        if record.id in self.documents:
            raise InvalidInputError(f"document '{record.id}' exists")
        self.documents[record.id] = record.model_copy(deep=True)
        return record

    async def update_document(self, record: DocumentRecord) -> DocumentRecord:
        self._doc(record.workspace_id, record.kb_id, record.id)
        record.updated_at = utcnow()
        self.documents[record.id] = record.model_copy(deep=True)
        return record

    def _doc(self, workspace_id: str, kb_id: str, document_id: str) -> DocumentRecord:
        self._kb(workspace_id, kb_id)
        doc = self.documents.get(document_id)
        if doc is None or doc.kb_id != kb_id:
            raise NotFoundError(
                f"document '{document_id}' not found", code=error_codes.DOCUMENT_NOT_FOUND
            )
        return doc

    async def get_document(self, workspace_id: str, kb_id: str, document_id: str) -> DocumentRecord:
        return self._doc(workspace_id, kb_id, document_id).model_copy(deep=True)

    async def list_documents(self, workspace_id: str, kb_id: str) -> list[DocumentRecord]:
        self._kb(workspace_id, kb_id)
        found = [d for d in self.documents.values() if d.kb_id == kb_id]
        return [d.model_copy(deep=True) for d in sorted(found, key=lambda d: (d.created_at, d.id))]

    async def delete_document(self, workspace_id: str, kb_id: str, document_id: str) -> None:
        self._doc(workspace_id, kb_id, document_id)
        del self.documents[document_id]
