import pytest

from agents.knowledge.chunking import (
    chunk_parent_child,
    chunk_text,
    estimate_tokens,
    split_sentences,
)


def test_sentences_end_at_chinese_and_english_terminators() -> None:
    text = "北京是中国的首都。上海很大！你去过吗？Ray is fast. Is it? Yes!\n\nNew paragraph"
    assert split_sentences(text) == [
        "北京是中国的首都。", "上海很大！", "你去过吗？", "Ray is fast.", "Is it?", "Yes!",
        "New paragraph",
    ]  # fmt: skip


def test_decimal_points_do_not_end_sentences() -> None:
    assert split_sentences("Pi is 3.14 roughly. Done.") == ["Pi is 3.14 roughly.", "Done."]


def test_chunks_respect_the_budget_and_overlap() -> None:
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(60)]
    chunks = chunk_text(" ".join(sentences), max_tokens=50, overlap_tokens=12)
    assert len(chunks) > 5
    assert all(c.tokens <= 50 for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        last_of_a = split_sentences(a.text)[-1]
        assert b.text.startswith(last_of_a)  # overlap carries whole sentences
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)  # nothing lost


def test_chinese_text_is_chunked_without_spaces() -> None:
    text = "".join(f"这是第{i}个句子，讲的是一个很长的故事。" for i in range(80))
    chunks = chunk_text(text, max_tokens=60, overlap_tokens=10)
    assert all(c.tokens <= 60 for c in chunks)
    assert all(" " not in c.text for c in chunks)
    assert chunks[0].text.startswith("这是第0个句子")


def test_overlong_sentence_is_split_hard() -> None:
    chunks = chunk_text("word " * 500, max_tokens=40, overlap_tokens=0)
    assert all(c.tokens <= 40 for c in chunks) and len(chunks) >= 12


def test_parent_child() -> None:
    text = " ".join(f"Fact {i} is about the number {i}." for i in range(100))
    children = chunk_parent_child(text, parent_max_tokens=120, child_max_tokens=30)
    assert all(c.tokens <= 30 for c in children)
    assert all(c.parent_text and c.text in c.parent_text for c in children)
    assert len({c.parent_index for c in children}) > 3


def test_estimate() -> None:
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("hello world") == 3
    with pytest.raises(ValueError):
        chunk_text("x", max_tokens=2)
