"""The durable store of apps, conversations and knowledge bases: SQLite or PostgreSQL."""

from cluster.store.engine import default_database_url
from cluster.store.knowledge_store import SqlKnowledgeStore
from cluster.store.sql_store import SqlConversationStore

__all__ = ["SqlConversationStore", "SqlKnowledgeStore", "default_database_url"]
