"""The store's tables as SQLAlchemy 2 declarative rows, one module per feature.

Importing this package registers every table on ``Base.metadata`` (the migrations'
environment compares against it). The hand-written migrations in
``cluster/store/migrations/versions`` create exactly these tables.
"""

from cluster.store.tables.base import (
    NAMING_CONVENTION,
    Base,
    RunColumns,
    SpecColumns,
    UtcDateTime,
    WorkspaceRow,
)
from cluster.store.tables.conversations import (
    AppRow,
    AppVersionRow,
    ConversationRow,
    MessageRow,
    PromptRow,
    SummaryRow,
)
from cluster.store.tables.crews import CrewRow, CrewRunRow
from cluster.store.tables.knowledge import DocumentRow, KnowledgeBaseRow
from cluster.store.tables.tools import ToolProviderRow
from cluster.store.tables.workflows import WorkflowNodeRunRow, WorkflowRow, WorkflowRunRow

__all__ = [
    "NAMING_CONVENTION",
    "AppRow",
    "AppVersionRow",
    "Base",
    "ConversationRow",
    "CrewRow",
    "CrewRunRow",
    "DocumentRow",
    "KnowledgeBaseRow",
    "MessageRow",
    "PromptRow",
    "RunColumns",
    "SpecColumns",
    "SummaryRow",
    "ToolProviderRow",
    "UtcDateTime",
    "WorkflowNodeRunRow",
    "WorkflowRow",
    "WorkflowRunRow",
    "WorkspaceRow",
]
