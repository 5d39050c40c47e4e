"""Relative-score fusion of a vector and a keyword ranking (the hybrid search)."""

from __future__ import annotations

from agents.knowledge.index import ScoredChunk


def _normalised(hits: list[ScoredChunk]) -> dict[str, float]:
    if not hits:
        return {}
    scores = [h.score for h in hits]
    low, high = min(scores), max(scores)
    if high == low:
        return {h.id: 1.0 for h in hits}
    return {h.id: (h.score - low) / (high - low) for h in hits}


def fuse(
    vector_hits: list[ScoredChunk], keyword_hits: list[ScoredChunk], alpha: float, top_k: int
) -> list[ScoredChunk]:
    """Each list min-max normalised to [0, 1], weighted ``alpha`` (vector) and
    ``1 - alpha`` (keyword), summed; a chunk missing from one list scores 0 there."""
    v, k = _normalised(vector_hits), _normalised(keyword_hits)
    by_id = {h.id: h for h in [*keyword_hits, *vector_hits]}
    fused = {cid: alpha * v.get(cid, 0.0) + (1 - alpha) * k.get(cid, 0.0) for cid in by_id}
    ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))[:top_k]
    return [by_id[cid].model_copy(update={"score": fused[cid]}) for cid in ranked]
