"""Concurrent streams: aggregate tokens/s and time to first token at 1, 4 and 8 streams.

Two paths in the same run, batches interleaved (direct, gateway, gateway, direct, ...):

- direct:  the llamacpp engine's server process (llama-server, ``--parallel`` slots)
- gateway: ``chorus serve`` with the same engine settings (Ray Serve proxy -> Gateway ->
           engine replica -> its own llama-server)

A batch starts N streams at once (96-token answers, greedy, long-answer prompts);
aggregate tok/s is the tokens of all N streams over the batch's wall time, TTFT is
per stream. Prints one JSON object; compare the gateway/direct ratios across runs.
Usage: python benchmarks/engine_concurrency.py [--rounds 3] [--parallel 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.engine_overhead import (  # noqa: E402
    MODEL,
    RAY_WORKER_NICENESS,
    REPLICA_FIELDS,
    _free_port,
    start_server,
    stream_once,
)
from cluster.engines.engine_process import EngineProcess, launch_command  # noqa: E402
from cluster.log_config import configure_logging  # noqa: E402
from cluster.settings import EngineSettings  # noqa: E402

PROMPTS = [
    "Write a long story about a lighthouse keeper.",
    "Explain in detail how a steam engine works.",
    "Describe, step by step, how to bake bread.",
    "Write a long letter to a friend about your holiday.",
    "Explain the history of the printing press in detail.",
    "Describe a walk through a busy market, in detail.",
    "Write a long essay about rivers.",
    "Explain how computers store numbers, in detail.",
]
LEVELS = (1, 4, 8)


async def batch(
    client: httpx.AsyncClient, url: str, n: int, max_tokens: int, **extra: object
) -> dict:
    started = time.perf_counter()
    runs = await asyncio.gather(
        *(
            stream_once(client, url, PROMPTS[i % len(PROMPTS)], max_tokens, **extra)
            for i in range(n)
        )
    )
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "tokens": sum(r["tokens"] for r in runs),
        "ttft_ms": [r["ttft_ms"] for r in runs],
        # Overlap: every stream's first token before any stream ends.
        "overlapped": max(r["started"] + r["ttft_ms"] / 1000 for r in runs)
        < min(r["ended"] for r in runs),
    }


def summarise(batches: list[dict]) -> dict:
    ttft = sorted(t for b in batches for t in b["ttft_ms"])
    tokens = sum(b["tokens"] for b in batches)
    return {
        "batches": len(batches),
        "aggregate_tokens_per_s": tokens / sum(b["wall_s"] for b in batches),
        "tokens_per_stream": tokens / len(ttft),
        "ttft_ms_p50": statistics.median(ttft),
        "ttft_ms_max": ttft[-1],
        "all_overlapped": all(b["overlapped"] for b in batches),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="batches per level and path")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--parallel", type=int, default=8, help="llama-server slots")
    args = parser.parse_args()
    configure_logging("WARNING")  # logs to stderr; stdout is the JSON result

    settings = EngineSettings(name=MODEL, parallel=args.parallel)
    # Ray starts its workers at nice 15 and the replica's llama-server inherits it; the
    # direct server gets the same priority, or it starves the other one on 2 cores.
    nice = ["nice", "-n", str(RAY_WORKER_NICENESS)]
    direct = EngineProcess(MODEL, lambda port: [*nice, *launch_command(settings, port)])
    await direct.start()
    port = _free_port()
    engines = json.dumps([settings.model_dump(include={"name", "parallel"})])
    results: dict[str, dict[str, dict]] = {"direct": {}, "gateway": {}}
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(port, data_dir, CHORUS_ENGINES=engines)
        try:
            # A connection per request on both paths: llama-server drops kept-alive
            # connections silently and a request reusing one fails ("Server disconnected
            # without sending a response", one in ten back to back).
            fresh = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(timeout=300, limits=fresh) as client:
                urls = {
                    "direct": direct.base_url + "/v1/chat/completions",
                    "gateway": f"http://127.0.0.1:{port}/v1/chat/completions",
                }
                for url in urls.values():  # warm both paths
                    await stream_once(client, url, "Hello", 8)
                for n in LEVELS:
                    runs: dict[str, list[dict]] = {"direct": [], "gateway": []}
                    for i in range(args.rounds):
                        order = ["direct", "gateway"] if i % 2 == 0 else ["gateway", "direct"]
                        for name in order:
                            extra = REPLICA_FIELDS if name == "direct" else {}
                            runs[name].append(
                                await batch(client, urls[name], n, args.max_tokens, **extra)
                            )
                    for name in runs:
                        results[name][str(n)] = summarise(runs[name])
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(60)
            await direct.stop()

    def ratio(n: int, key: str) -> float:
        return results["gateway"][str(n)][key] / results["direct"][str(n)][key]

    print(
        json.dumps(
            {
                "benchmark": "engine_concurrency",
                "date": time.strftime("%Y-%m-%d"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "load_average": os.getloadavg(),
                "model": MODEL,
                "parallel": args.parallel,
                "threads": "all cores",
                "max_tokens": args.max_tokens,
                "direct": results["direct"],
                "gateway": results["gateway"],
                "gateway_over_direct_aggregate": {
                    n: ratio(n, "aggregate_tokens_per_s") for n in LEVELS
                },
                "targets_vs_before": {
                    "single_stream_tok_s": ">= 1.5 x 52",
                    "aggregate_tok_s_at_8": ">= 3 x 51",
                    "ttft_p50_at_8": "<= 1 s",
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
