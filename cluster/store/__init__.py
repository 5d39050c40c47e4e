"""The durable store of apps, conversations, knowledge bases and workflows: SQLite or
PostgreSQL."""

from cluster.store.engine import default_database_url
from cluster.store.knowledge_store import SqlKnowledgeStore
from cluster.store.sql_store import SqlConversationStore
from cluster.store.workflow_store import SqlWorkflowStore

__all__ = [
    "SqlConversationStore",
    "SqlKnowledgeStore",
    "SqlWorkflowStore",
    "default_database_url",
]
