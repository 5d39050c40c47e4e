"""docs/protocol.md embeds the protocol's JSON Schema; it must match the code."""

from pathlib import Path

from channels.protocol_schema import protocol_schema_text

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"


def test_documented_schema_is_current() -> None:
    text = DOC.read_text()
    embedded = text.split("<!-- schema:start -->")[1].split("<!-- schema:end -->")[0]
    embedded = embedded.strip().removeprefix("```json").removesuffix("```").strip()
    assert embedded == protocol_schema_text(), (
        "docs/protocol.md is stale: paste the output of `python -m channels.protocol_schema`"
    )


def test_every_event_and_frame_type_is_documented() -> None:
    text = DOC.read_text()
    for name in [
        "conversation_started",
        "message_started",
        "delta",
        "message_replaced",
        "suggestions",
        "usage",
        "error",
        "message_end",
        "start",
        "resume",
        "message",
        "stop",
        "ping",
    ]:
        assert f"`{name}`" in text, name
