"""Stored things of the apps/conversations domain, as plain pydantic records.

These cross Ray boundaries and are what every store implementation returns.
Every record belongs to a workspace; every store call is scoped by one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.apps.spec import AppSpec
from agents.ids import utcnow
from agents.limits import Limits

MessageRole = Literal["user", "assistant", "system"]
#: pending: being generated; complete: final; stopped: the user stopped it (content is
#: what was generated); failed: an error ended it (``error`` says which); blocked: the
#: input moderation refused it.
MessageStatus = Literal["pending", "complete", "stopped", "failed", "blocked"]


AppAccess = Literal["private", "public"]


class AppRecord(BaseModel):
    id: str
    workspace_id: str
    draft: AppSpec = Field(description="The editable spec; debug chat runs it.")
    published_version: int | None = Field(
        default=None, description="Newest published version, None if never published."
    )
    access: AppAccess = Field(
        default="private",
        description="Who may chat with the published app as an end user: 'public' (anyone "
        "with its link) or 'private' (the workspace's members).",
    )
    limits: Limits | None = Field(default=None, description="The app's, over every caller.")
    end_user_limits: Limits | None = Field(default=None, description="Each end user's.")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AppVersionRecord(BaseModel):
    app_id: str
    workspace_id: str
    version: int = Field(ge=1)
    spec: AppSpec
    created_at: datetime = Field(default_factory=utcnow)


class ConversationRecord(BaseModel):
    id: str
    workspace_id: str
    app_id: str
    app_version: int | None = Field(
        default=None, description="Published version it talks to; None for a debug (draft) chat."
    )
    title: str = ""
    inputs: dict[str, str] = Field(default_factory=dict, description="System prompt variables.")
    user_id: str | None = None
    deleted: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TurnUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    model: str = ""


class MessageRecord(BaseModel):
    id: str
    conversation_id: str
    workspace_id: str
    seq: int = Field(ge=0, description="Position in the conversation, from 0.")
    turn_id: str = Field(description="The user message and its answer share a turn id.")
    role: MessageRole
    content: str = ""
    status: MessageStatus = "complete"
    error: dict[str, Any] | None = Field(default=None, description="{code, message} if failed.")
    usage: TurnUsage | None = None
    suggestions: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)


class SummaryRecord(BaseModel):
    conversation_id: str
    workspace_id: str
    text: str
    covers_until_seq: int = Field(description="The summary covers messages with seq <= this.")
    updated_at: datetime = Field(default_factory=utcnow)


class EarlierMessage(BaseModel):
    """A message of a conversation's history given when it starts (e.g. the earlier
    messages of an OpenAI chat request to an app)."""

    role: Literal["user", "assistant"]
    content: str


class PromptRecord(BaseModel):
    """What was sent to the model on one turn, for debugging."""

    turn_id: str
    conversation_id: str
    workspace_id: str
    purpose: Literal["answer", "summary", "follow_ups"] = "answer"
    messages: list[dict[str, Any]]
    model: str
    created_at: datetime = Field(default_factory=utcnow)
