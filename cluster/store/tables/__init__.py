"""The store's tables as SQLAlchemy 2 declarative rows, one module per feature
(``conversations``, ``knowledge``, ``workflows``, ``tools``, ``crews``) on ``base``.

Importing this package registers every table on ``Base.metadata`` (the migrations'
environment compares against it). The hand-written migrations in
``cluster/store/migrations/versions`` create exactly these tables.
"""

from cluster.store.tables import conversations, crews, knowledge, tools, workflows
from cluster.store.tables.base import (
    NAMING_CONVENTION,
    Base,
    OwnedRow,
    RecordRow,
    RunRow,
    SpecRow,
    UtcDateTime,
    WorkspaceRow,
)

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "OwnedRow",
    "RecordRow",
    "RunRow",
    "SpecRow",
    "UtcDateTime",
    "WorkspaceRow",
    "conversations",
    "crews",
    "knowledge",
    "tools",
    "workflows",
]
