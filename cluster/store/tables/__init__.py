"""The store's tables as SQLAlchemy 2 declarative rows, one module per feature
(``accounts``, ``conversations``, ``knowledge``, ``workflows``, ``tools``) on ``base``, and the
spec-like features' tables made from their kinds (:func:`spec_tables`).

Importing this package registers every table on ``Base.metadata`` (the migrations'
environment compares against it). The hand-written migrations in
``cluster/store/migrations/versions`` create exactly these tables.
"""

from agents.crews.records import CREW
from agents.workflows.store import WORKFLOW
from cluster.store.tables import accounts, conversations, knowledge, tools, workflows
from cluster.store.tables.base import (
    NAMING_CONVENTION,
    Base,
    OwnedRow,
    RecordRow,
    RunRow,
    SpecRow,
    UtcDateTime,
    WorkspaceRow,
    spec_tables,
)

#: The spec-like features' tables, made from their kinds (a new feature adds its kind).
SPEC_TABLES = [spec_tables(kind) for kind in (CREW, WORKFLOW)]

__all__ = [
    "NAMING_CONVENTION",
    "SPEC_TABLES",
    "Base",
    "OwnedRow",
    "RecordRow",
    "RunRow",
    "SpecRow",
    "UtcDateTime",
    "WorkspaceRow",
    "accounts",
    "conversations",
    "knowledge",
    "spec_tables",
    "tools",
    "workflows",
]
