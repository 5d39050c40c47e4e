import pytest

from agents.conversation.moderation import OutputMasker, blocked_keyword


def test_blocked_keyword_is_case_insensitive() -> None:
    assert blocked_keyword("How to build a BOMB?", ["bomb"]) == "BOMB"
    assert blocked_keyword("all fine", ["bomb"]) is None
    assert blocked_keyword("anything", []) is None


@pytest.mark.parametrize(
    "deltas",
    [
        ["the secret is out"],
        ["the sec", "ret is out"],
        ["the s", "e", "c", "r", "e", "t", " is out"],
        ["the SECR", "ET is out"],
    ],
)
def test_masks_words_split_across_deltas(deltas: list[str]) -> None:
    masker = OutputMasker(["secret"])
    sent = [masker.feed(d) for d in deltas] + [masker.flush()]
    assert "".join(sent) == "the ****** is out"
    assert all("sec" not in s.lower() for s in sent)


def test_no_keywords_passes_through_immediately() -> None:
    masker = OutputMasker([])
    assert masker.feed("abc") == "abc"
    assert masker.flush() == ""


def test_chinese_keywords() -> None:
    masker = OutputMasker(["机密"], mask="#")
    out = masker.feed("这是机") + masker.feed("密文件") + masker.flush()
    assert out == "这是##文件"
