import pytest

from agents.knowledge.evaluation import dedupe, hit_at_k, ndcg_at_k


def test_metrics() -> None:
    ranked = dedupe(["a", "a", "b", "c", "b", "d"])
    assert ranked == ["a", "b", "c", "d"]
    assert hit_at_k(ranked, {"c"}, 3) == 1.0 and hit_at_k(ranked, {"d"}, 3) == 0.0
    assert ndcg_at_k(ranked, {"a"}, 10) == 1.0
    assert ndcg_at_k(ranked, {"b"}, 10) == pytest.approx(1 / 1.58496, rel=1e-4)
    assert ndcg_at_k(ranked, {"z"}, 10) == 0.0
