"""The durable store: one :class:`Database` (SQLite or PostgreSQL) per process and a
store per kind of record on it (apps and conversations, knowledge bases, workflows,
tool providers, crews)."""

from cluster.store.conversation_store import SqlConversationStore
from cluster.store.crew_store import SqlCrewStore
from cluster.store.database import Database
from cluster.store.engine import default_database_url
from cluster.store.knowledge_store import SqlKnowledgeStore
from cluster.store.tool_provider_store import SqlToolProviderStore
from cluster.store.workflow_store import SqlWorkflowStore

__all__ = [
    "Database",
    "SqlConversationStore",
    "SqlCrewStore",
    "SqlKnowledgeStore",
    "SqlToolProviderStore",
    "SqlWorkflowStore",
    "default_database_url",
]
