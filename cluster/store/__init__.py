"""The durable store of apps and conversations: SQLAlchemy on SQLite (embedded) or PostgreSQL."""

from cluster.store.engine import default_database_url
from cluster.store.sql_store import SqlConversationStore

__all__ = ["SqlConversationStore", "default_database_url"]
