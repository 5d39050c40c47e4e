"""Apps through the OpenAI API: ``model: "app:<app id>"`` runs a turn of the published app.

The request's earlier messages become the conversation's history (so memory,
moderation and follow-ups apply as in any conversation); its last user message is
the new turn. The completion's id is the conversation id.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from fastapi.responses import JSONResponse, Response, StreamingResponse

from agents.accounts.records import Principal
from agents.conversation.records import EarlierMessage
from agents.conversation.store import ConversationStoreProtocol
from agents.engine import ChatRequest
from agents.errors import ChorusError, InvalidInputError, NotFoundError
from agents.events import Event
from agents.ids import new_id
from channels.limits import TurnLimits
from cluster.limits import metered
from cluster.sessions.session_router import SessionRouter

PREFIX = "app:"


class AppCompletions:
    def __init__(
        self,
        store: ConversationStoreProtocol,
        sessions: SessionRouter,
        *,
        limits: TurnLimits | None = None,
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.limits = limits

    async def handle(
        self, req: ChatRequest, workspace_id: str, *, who: Principal | None = None
    ) -> Response:
        """``who``: the caller; an end user's or member's conversation is theirs (over
        the request's ``user``), and the turn meets the key's, app's and end user's
        limits."""
        owner = who.owner() if who is not None else None
        app_id = req.model.removeprefix(PREFIX)
        app = await self.store.get_app(workspace_id, app_id)
        if app.published_version is None:
            raise NotFoundError(f"app '{app_id}' has no published version", param="model")
        last = req.messages[-1]
        if last.role != "user" or not last.text():
            raise InvalidInputError("the last message must be the user's", param="messages")
        history = [
            EarlierMessage(role=m.role, content=m.text())
            for m in req.messages[:-1]
            if m.role in ("user", "assistant") and m.text()
        ]
        started = await self.sessions.start(
            workspace_id, app_id, new_id("conv"), user_id=owner or req.user, history=history
        )
        conv_id = started.conversation_id
        lease = await self.limits.turn(who, workspace_id, app_id) if self.limits else None
        events = metered(self.sessions.send(workspace_id, conv_id, last.text()), lease)
        if req.stream:
            return StreamingResponse(
                self._chunks(conv_id, req.model, events), media_type="text/event-stream"
            )
        text: list[str] = []
        usage: dict[str, int] = {}
        async for event in events:
            if event.type == "delta":
                text.append(event.content)
            elif event.type == "message_replaced":
                text = [event.content]
            elif event.type == "usage":
                usage = _usage(event.prompt_tokens, event.completion_tokens)
            elif event.type == "error":
                raise ChorusError(event.message, code=event.code)
        return JSONResponse(
            {
                "id": conv_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": req.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(text)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage or _usage(0, 0),
            }
        )

    async def _chunks(
        self, conv_id: str, model: str, events: AsyncIterator[Event]
    ) -> AsyncIterator[bytes]:
        def frame(delta: dict[str, str], finish: str | None = None) -> bytes:
            chunk = {
                "id": conv_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"

        yield frame({"role": "assistant"})
        async for event in events:
            if event.type == "delta":
                yield frame({"content": event.content})
            elif event.type == "message_replaced":
                yield frame({"content": event.content})
            elif event.type == "error":
                body = {
                    "error": {"message": event.message, "code": event.code, "type": "server_error"}
                }
                yield b"data: " + json.dumps(body).encode() + b"\n\n"
                return
        yield frame({}, "stop")
        yield b"data: [DONE]\n\n"


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
