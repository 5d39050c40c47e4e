from agents.conversation import memory
from agents.conversation.records import MessageRecord


def msg(seq: int, role: str, text: str) -> MessageRecord:
    return MessageRecord(
        id=f"m{seq}",
        conversation_id="c",
        workspace_id="w",
        seq=seq,
        turn_id="t",
        role=role,
        content=text,
    )


def test_users_words_survive_a_bad_model_summary() -> None:
    first = memory.fold(
        "", [msg(0, "user", "My code is 4711."), msg(1, "assistant", "Noted.")], "", 300
    )
    assert "4711" in first
    second = memory.fold(
        first, [msg(2, "user", "Hi again"), msg(3, "assistant", "Hello")], "garbage " * 5, 300
    )
    parsed = memory.LongTermMemory.parse(second)
    assert parsed.notes == ["My code is 4711.", "Hi again"]
    assert parsed.summary.startswith("garbage")
    assert len(second) <= 300


def test_notes_are_bounded_oldest_first() -> None:
    text = ""
    for i in range(40):
        text = memory.fold(text, [msg(i, "user", f"fact number {i} is here")], "", 200)
        assert len(text) <= 200
    notes = memory.LongTermMemory.parse(text).notes
    assert notes[-1] == "fact number 39 is here" and "fact number 0 is here" not in notes


def test_plain_summary_text_is_read_as_summary() -> None:
    assert memory.LongTermMemory.parse("old style summary").summary == "old style summary"
