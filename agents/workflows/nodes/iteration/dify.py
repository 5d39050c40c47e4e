"""iteration and iteration-start from Dify: the array, the collected output and how
steps run and fail."""

from __future__ import annotations

from agents.workflows.dify.mapping import Data, MappingContext, clamp


def map_iteration(raw: Data, m: MappingContext) -> Data:
    mode = raw.get("error_handle_mode") or "terminated"
    if mode not in ("terminated", "continue-on-error", "remove-abnormal-output"):
        m.note("needs_mapping", "error_handle_mode", f"unknown error handling {mode!r}")
    out: Data = {
        "iterator_selector": m.selector(raw.get("iterator_selector"), "iterator_selector"),
        "output_selector": m.selector(raw.get("output_selector"), "output_selector"),
        "output_type": m.var_type(raw.get("output_type"), "output_type", "array[any]"),
        "start_node_id": str(raw.get("start_node_id") or ""),
        "is_parallel": bool(raw.get("is_parallel")),
        "error_handle_mode": mode,
    }
    parallel = clamp(raw.get("parallel_nums"), 1, 50)
    if parallel is not None:
        out["parallel_nums"] = int(parallel)
    return out


def map_iteration_start(raw: Data, m: MappingContext) -> Data:
    return {}
