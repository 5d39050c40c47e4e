"""What a rate limit adds to a request: one call to the shared limits actor.

Usage: python benchmarks/limits.py [--rounds 1000]

Starts a local Ray on 127.0.0.1 and the server's own :class:`cluster.limits.LimitsActor`
on a SQLite store in a temporary directory, then times, from a driver as a gateway
replica would call it: a no-op call to an actor of the same kind (the baseline: what
any actor call costs here), a request counted against a requests-per-minute limit, and
a turn's stream admitted and released with its tokens (two calls, one store write).
Callers without limits never make these calls. Prints JSON: milliseconds p50 / p90 /
p99, and each p50 as a ratio to the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cluster.ray_runtime import apply_loopback_env  # noqa: E402

apply_loopback_env()  # before Ray is imported: stay on 127.0.0.1

import ray  # noqa: E402

from agents.limits import Limits, Subject  # noqa: E402
from cluster.limits import Limiter  # noqa: E402
from cluster.store import default_database_url  # noqa: E402
from cluster.store.database import Database  # noqa: E402


def _quantiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(sorted(samples), n=100)
    return {"p50": round(q[49], 3), "p90": round(q[89], 3), "p99": round(q[98], 3)}


async def _time(rounds: int, call: object) -> list[float]:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        await call()  # type: ignore[operator]
        samples.append((time.perf_counter() - began) * 1000)
    return samples


async def run(rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = default_database_url(Path(tmp))
        database = Database(url)
        await database.start()  # migrate once, as the server's start does
        await database.close()
        limiter = Limiter(url, "bench")
        actor = limiter.actor()
        await actor.streams.remote("warm-up")  # type: ignore[attr-defined]
        counted = Subject("key:bench", Limits(requests_per_minute=10**9))
        streamed = Subject("app:bench", Limits(concurrent_streams=10**6, tokens_per_day=10**12))

        async def baseline() -> None:
            await actor.streams.remote("key:bench")  # type: ignore[attr-defined]

        async def request() -> None:
            await limiter.admit([counted], stream=False)

        async def turn() -> None:
            lease = await limiter.admit([streamed], stream=True)
            assert lease is not None
            await lease.release(42)

        for warm in (baseline, request, turn):
            await _time(20, warm)
        results = {
            name: _quantiles(await _time(rounds, call))
            for name, call in (("actor_call", baseline), ("request", request), ("turn", turn))
        }
    base = results["actor_call"]["p50"]
    return {
        "benchmark": "limits",
        "rounds": rounds,
        "ms": results,
        "p50_ratio_to_actor_call": {name: round(r["p50"] / base, 2) for name, r in results.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))  # JSON alone
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        print(json.dumps(asyncio.run(run(args.rounds)), indent=2))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
