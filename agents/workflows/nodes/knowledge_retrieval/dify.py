"""knowledge-retrieval from Dify: the query, and Dify's retrieval settings as ours."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext, as_dict, clamp


def map_knowledge_retrieval(raw: Data, m: MappingContext) -> Data:
    ids = [str(i) for i in raw.get("dataset_ids") or []]
    out: Data = {
        "query_variable_selector": m.selector(
            raw.get("query_variable_selector"), "query_variable_selector"
        ),
        "dataset_ids": ids,
    }
    if ids:
        m.note(
            "needs_mapping",
            "dataset_ids",
            f"bind a knowledge base: Dify dataset(s) {', '.join(ids)} are not knowledge bases here",
        )
    config = raw.get("multiple_retrieval_config")
    if raw.get("retrieval_mode") == "multiple" and isinstance(config, dict):
        top_k = clamp(config.get("top_k"), 1, 200)
        if top_k is not None:
            out["top_k"] = int(top_k)
        if clamp(config.get("score_threshold"), 0, 1) is not None:
            out["score_threshold"] = config["score_threshold"]
            m.note("info", "score_threshold", "scores are on this server's scale; check it")
        weights = as_dict(config.get("weights"))
        alpha = clamp(as_dict(weights.get("vector_setting")).get("vector_weight"), 0, 1)
        if config.get("reranking_mode") == "weighted_score" and alpha is not None:
            out["mode"] = "vector" if alpha == 1 else "keyword" if alpha == 0 else "hybrid"
            out["alpha"] = alpha
        elif config.get("reranking_enable") and config.get("reranking_model"):
            m.note("dropped", "reranking_model", "reranking models are not used; hybrid search")
    else:
        m.note(
            "info",
            "retrieval_mode",
            "single retrieval (a model picks one dataset) is a search across all the datasets here",
        )
    if raw.get("metadata_filtering_mode") not in (None, "disabled"):
        m.note("dropped", "metadata_filtering_mode", "metadata filtering is not supported")
    return out
