"""The JSON Schema of the chat protocol (client frames and server events).

``python -m channels.protocol_schema`` prints it; docs/protocol.md embeds the same
text and a unit test keeps the two equal.
"""

from __future__ import annotations

import json

from pydantic import JsonValue

from agents.events import EVENT_ADAPTER
from channels.ws_chat import FRAME_ADAPTER, EventBatchFrame


def protocol_schema() -> dict[str, JsonValue]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Chorus chat protocol",
        "client_frame": FRAME_ADAPTER.json_schema(),
        "server_event": EVENT_ADAPTER.json_schema(),
        "server_batch": _batch_schema(),
    }


def _batch_schema() -> dict[str, JsonValue]:
    """The batch frame, its events referring to ``server_event`` (not a copy of it)."""
    schema = EventBatchFrame.model_json_schema()
    properties = schema["properties"]
    assert isinstance(properties, dict)
    properties["events"] = {
        "type": "array",
        "items": {"$ref": "#/server_event"},
        "description": "The events, oldest first.",
        "title": "Events",
    }
    schema.pop("$defs", None)
    return schema


def protocol_schema_text() -> str:
    return json.dumps(protocol_schema(), indent=2, ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":
    print(protocol_schema_text())
