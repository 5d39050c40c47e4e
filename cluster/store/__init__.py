"""The durable store: one :class:`Database` (SQLite or PostgreSQL) per process and a
store per kind of record on it (accounts, apps and conversations, knowledge bases,
workflows, tool providers; the spec-like features, crews among them, on the generic
:class:`SqlRunRepository`)."""

from cluster.store.account_store import SqlAccountStore
from cluster.store.conversation_store import SqlConversationStore
from cluster.store.database import Database
from cluster.store.engine import default_database_url
from cluster.store.knowledge_store import SqlKnowledgeStore
from cluster.store.repository import SqlRunRepository
from cluster.store.tool_provider_store import SqlToolProviderStore
from cluster.store.workflow_store import SqlWorkflowStore

__all__ = [
    "Database",
    "SqlAccountStore",
    "SqlConversationStore",
    "SqlKnowledgeStore",
    "SqlRunRepository",
    "SqlToolProviderStore",
    "SqlWorkflowStore",
    "default_database_url",
]
