"""The durable store of apps and conversations, as a protocol, and an in-memory fake.

Every method takes the ``workspace_id`` first: a record of another workspace is
"not found", never returned. Writes are durable when the coroutine returns, and each
call is one transaction: ``add_messages`` stores all its messages or none, and
``update_message(..., prompts=...)`` stores the message with its prompt records or
neither (a turn's question and its pending answer, its answer and what it sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from agents import error_codes
from agents.apps.spec import AppSpec
from agents.conversation.records import (
    AppAccess,
    AppRecord,
    AppVersionRecord,
    ConversationRecord,
    MessageRecord,
    PromptRecord,
    SummaryRecord,
)
from agents.errors import InvalidInputError, NotFoundError
from agents.ids import new_id, utcnow
from agents.limits import Limits


@runtime_checkable
class ConversationStoreProtocol(Protocol):
    # apps
    async def create_app(self, workspace_id: str, spec: AppSpec) -> AppRecord: ...
    async def get_app(self, workspace_id: str, app_id: str) -> AppRecord: ...
    async def list_apps(self, workspace_id: str) -> list[AppRecord]: ...
    async def update_draft(self, workspace_id: str, app_id: str, spec: AppSpec) -> AppRecord: ...
    async def delete_app(self, workspace_id: str, app_id: str) -> None: ...
    async def publish(self, workspace_id: str, app_id: str) -> AppVersionRecord: ...
    async def get_version(
        self, workspace_id: str, app_id: str, version: int | None = None
    ) -> AppVersionRecord: ...
    async def set_access(self, workspace_id: str, app_id: str, access: AppAccess) -> AppRecord: ...
    async def set_limits(
        self,
        workspace_id: str,
        app_id: str,
        limits: Limits | None,
        end_user_limits: Limits | None,
    ) -> AppRecord: ...
    async def find_app(self, app_id: str) -> AppRecord | None:
        """An app by its id alone, in whichever workspace (for its public link)."""
        ...

    # conversations
    async def create_conversation(self, record: ConversationRecord) -> ConversationRecord: ...
    async def get_conversation(
        self, workspace_id: str, conversation_id: str
    ) -> ConversationRecord: ...
    async def list_conversations(
        self,
        workspace_id: str,
        app_id: str | None = None,
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> list[ConversationRecord]:
        """Newest first; with ``user_id``, that end user's only."""
        ...

    async def rename_conversation(
        self, workspace_id: str, conversation_id: str, title: str
    ) -> ConversationRecord: ...
    async def delete_conversation(self, workspace_id: str, conversation_id: str) -> None: ...

    # messages, summaries, prompts
    async def add_message(self, record: MessageRecord) -> MessageRecord: ...
    async def add_messages(self, records: Sequence[MessageRecord]) -> None:
        """Store messages of one conversation together: all of them or none."""
        ...

    async def update_message(
        self, record: MessageRecord, prompts: Sequence[PromptRecord] = ()
    ) -> MessageRecord:
        """Overwrite a stored message; ``prompts`` are recorded in the same transaction."""
        ...

    async def list_messages(
        self, workspace_id: str, conversation_id: str
    ) -> list[MessageRecord]: ...
    async def save_summary(self, record: SummaryRecord) -> None: ...
    async def get_summary(
        self, workspace_id: str, conversation_id: str
    ) -> SummaryRecord | None: ...
    async def add_prompt(self, record: PromptRecord) -> None: ...
    async def list_prompts(self, workspace_id: str, conversation_id: str) -> list[PromptRecord]: ...


class InMemoryConversationStore:
    """The protocol in memory, for unit tests; runs the same contract suite as SQL."""

    def __init__(self) -> None:
        self.apps: dict[str, AppRecord] = {}
        self.versions: dict[tuple[str, int], AppVersionRecord] = {}
        self.conversations: dict[str, ConversationRecord] = {}
        self.messages: dict[str, list[MessageRecord]] = {}
        self.summaries: dict[str, SummaryRecord] = {}
        self.prompts: dict[str, list[PromptRecord]] = {}

    async def create_app(self, workspace_id: str, spec: AppSpec) -> AppRecord:
        app = AppRecord(id=new_id("app"), workspace_id=workspace_id, draft=spec)
        self.apps[app.id] = app
        return app.model_copy(deep=True)

    def _app(self, workspace_id: str, app_id: str) -> AppRecord:
        app = self.apps.get(app_id)
        if app is None or app.workspace_id != workspace_id:
            raise NotFoundError(f"app '{app_id}' not found", code=error_codes.APP_NOT_FOUND)
        return app

    async def get_app(self, workspace_id: str, app_id: str) -> AppRecord:
        return self._app(workspace_id, app_id).model_copy(deep=True)

    async def list_apps(self, workspace_id: str) -> list[AppRecord]:
        apps = [a for a in self.apps.values() if a.workspace_id == workspace_id]
        return [a.model_copy(deep=True) for a in sorted(apps, key=lambda a: a.created_at)]

    async def update_draft(self, workspace_id: str, app_id: str, spec: AppSpec) -> AppRecord:
        app = self._app(workspace_id, app_id)
        app.draft = spec
        app.updated_at = utcnow()
        return app.model_copy(deep=True)

    async def delete_app(self, workspace_id: str, app_id: str) -> None:
        self._app(workspace_id, app_id)
        del self.apps[app_id]

    async def publish(self, workspace_id: str, app_id: str) -> AppVersionRecord:
        app = self._app(workspace_id, app_id)
        version = (app.published_version or 0) + 1
        record = AppVersionRecord(
            app_id=app_id, workspace_id=workspace_id, version=version, spec=app.draft
        )
        self.versions[(app_id, version)] = record
        app.published_version = version
        return record.model_copy(deep=True)

    async def get_version(
        self, workspace_id: str, app_id: str, version: int | None = None
    ) -> AppVersionRecord:
        app = self._app(workspace_id, app_id)
        wanted = version if version is not None else app.published_version
        record = self.versions.get((app_id, wanted or 0))
        if record is None:
            raise NotFoundError(
                f"app '{app_id}' has no published version {wanted or ''}".strip(),
                code=error_codes.VERSION_NOT_FOUND,
            )
        return record.model_copy(deep=True)

    async def set_access(self, workspace_id: str, app_id: str, access: AppAccess) -> AppRecord:
        app = self._app(workspace_id, app_id)
        app.access = access
        app.updated_at = utcnow()
        return app.model_copy(deep=True)

    async def set_limits(
        self,
        workspace_id: str,
        app_id: str,
        limits: Limits | None,
        end_user_limits: Limits | None,
    ) -> AppRecord:
        app = self._app(workspace_id, app_id)
        app.limits, app.end_user_limits = limits, end_user_limits
        app.updated_at = utcnow()
        return app.model_copy(deep=True)

    async def find_app(self, app_id: str) -> AppRecord | None:
        app = self.apps.get(app_id)
        return None if app is None else app.model_copy(deep=True)

    async def create_conversation(self, record: ConversationRecord) -> ConversationRecord:
        self._app(record.workspace_id, record.app_id)
        if record.id in self.conversations:
            raise InvalidInputError(f"conversation '{record.id}' exists")
        self.conversations[record.id] = record.model_copy(deep=True)
        self.messages[record.id] = []
        return record

    def _conversation(self, workspace_id: str, conversation_id: str) -> ConversationRecord:
        conv = self.conversations.get(conversation_id)
        if conv is None or conv.workspace_id != workspace_id or conv.deleted:
            raise NotFoundError(
                f"conversation '{conversation_id}' not found",
                code=error_codes.CONVERSATION_NOT_FOUND,
            )
        return conv

    async def get_conversation(self, workspace_id: str, conversation_id: str) -> ConversationRecord:
        return self._conversation(workspace_id, conversation_id).model_copy(deep=True)

    async def list_conversations(
        self,
        workspace_id: str,
        app_id: str | None = None,
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> list[ConversationRecord]:
        found = [
            c
            for c in self.conversations.values()
            if c.workspace_id == workspace_id
            and not c.deleted
            and (app_id is None or c.app_id == app_id)
            and (user_id is None or c.user_id == user_id)
        ]
        found.sort(key=lambda c: c.updated_at, reverse=True)
        return [c.model_copy(deep=True) for c in found[:limit]]

    async def rename_conversation(
        self, workspace_id: str, conversation_id: str, title: str
    ) -> ConversationRecord:
        conv = self._conversation(workspace_id, conversation_id)
        conv.title = title
        conv.updated_at = utcnow()
        return conv.model_copy(deep=True)

    async def delete_conversation(self, workspace_id: str, conversation_id: str) -> None:
        self._conversation(workspace_id, conversation_id).deleted = True

    async def add_message(self, record: MessageRecord) -> MessageRecord:
        await self.add_messages([record])
        return record

    async def add_messages(self, records: Sequence[MessageRecord]) -> None:
        for record in records:  # checked first: all or nothing
            self._conversation(record.workspace_id, record.conversation_id)
        seqs = [(r.conversation_id, r.seq) for r in records]
        taken = {(c, m.seq) for c, _ in seqs for m in self.messages[c]}
        for record in records:
            key = (record.conversation_id, record.seq)
            if key in taken or seqs.count(key) > 1:
                raise InvalidInputError(
                    f"message seq {record.seq} already exists in '{record.conversation_id}'",
                    code=error_codes.DUPLICATE_MESSAGE,
                )
        for record in records:
            self.messages[record.conversation_id].append(record.model_copy(deep=True))
            self.conversations[record.conversation_id].updated_at = utcnow()

    async def update_message(
        self, record: MessageRecord, prompts: Sequence[PromptRecord] = ()
    ) -> MessageRecord:
        self._conversation(record.workspace_id, record.conversation_id)
        for prompt in prompts:  # checked first: all or nothing
            self._conversation(prompt.workspace_id, prompt.conversation_id)
        messages = self.messages[record.conversation_id]
        for i, m in enumerate(messages):
            if m.id == record.id:
                messages[i] = record.model_copy(deep=True)
                for prompt in prompts:
                    self.prompts.setdefault(prompt.conversation_id, []).append(
                        prompt.model_copy(deep=True)
                    )
                return record
        raise NotFoundError(f"message '{record.id}' not found", code=error_codes.MESSAGE_NOT_FOUND)

    async def list_messages(self, workspace_id: str, conversation_id: str) -> list[MessageRecord]:
        self._conversation(workspace_id, conversation_id)
        msgs = sorted(self.messages[conversation_id], key=lambda m: m.seq)
        return [m.model_copy(deep=True) for m in msgs]

    async def save_summary(self, record: SummaryRecord) -> None:
        self._conversation(record.workspace_id, record.conversation_id)
        self.summaries[record.conversation_id] = record.model_copy(deep=True)

    async def get_summary(self, workspace_id: str, conversation_id: str) -> SummaryRecord | None:
        self._conversation(workspace_id, conversation_id)
        found = self.summaries.get(conversation_id)
        return found.model_copy(deep=True) if found else None

    async def add_prompt(self, record: PromptRecord) -> None:
        self._conversation(record.workspace_id, record.conversation_id)
        self.prompts.setdefault(record.conversation_id, []).append(record.model_copy(deep=True))

    async def list_prompts(self, workspace_id: str, conversation_id: str) -> list[PromptRecord]:
        self._conversation(workspace_id, conversation_id)
        return [p.model_copy(deep=True) for p in self.prompts.get(conversation_id, [])]
