"""What authentication adds to a request: the edge resolving a credential.

Usage: python benchmarks/auth.py [--rounds 2000]

Runs the gateway's own :class:`channels.auth.Edge` over the real account service on a
SQLite store in a temporary directory (no Ray, no HTTP): a workspace key and a user's
access token, each resolved with the edge's cache cold (every call looks the
credential up in the store: the first request of a key, or a key resolved by another
gateway replica) and warm (the usual case: the same credential within 5 s), plus an
access token checked with a user who acts in a workspace they select. Prints JSON:
microseconds per resolution, p50 / p90 / p99. Target (issue 13): added latency per
request ≤ 0.5 ms p50.
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

# The repository first (benchmarks/agents.py would shadow the agents package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.accounts.secrets import AccessTokenSigner  # noqa: E402
from agents.accounts.service import AccountService  # noqa: E402
from channels.auth import Edge  # noqa: E402
from cluster.store import SqlAccountStore  # noqa: E402
from cluster.store.database import Database  # noqa: E402


def _quantiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    q = statistics.quantiles(samples, n=100)
    return {"p50": round(q[49], 1), "p90": round(q[89], 1), "p99": round(q[98], 1)}


async def _measure(edge: Edge, token: str, selected: str | None, rounds: int, cold: bool) -> dict:
    timings = []
    for _ in range(rounds):
        if cold:
            edge.forget()
        started = time.perf_counter()
        await edge.principal(token, selected)
        timings.append((time.perf_counter() - started) * 1e6)
    return _quantiles(timings)


async def main() -> None:
    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))  # JSON alone
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chorus-auth-bench-") as tmp:
        database = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'chorus.db'}")
        await database.start()
        accounts = AccountService(SqlAccountStore(database), AccessTokenSigner(b"k" * 32))
        user = await accounts.create_user("bench@example.com", "bench-password")
        workspace = await accounts.create_workspace("Bench", user.id)
        key = (await accounts.create_key(workspace.id, "bench", scopes=["read"])).secret
        token = (await accounts.login("bench@example.com", "bench-password")).access_token
        edge = Edge(accounts)
        result = {
            "benchmark": "auth",
            "date": time.strftime("%Y-%m-%d"),
            "store": "sqlite",
            "rounds": args.rounds,
            "microseconds": {
                "key_warm": await _measure(edge, key, None, args.rounds, cold=False),
                "key_cold": await _measure(edge, key, None, args.rounds // 4, cold=True),
                "token_warm": await _measure(edge, token, workspace.id, args.rounds, cold=False),
                "token_cold": await _measure(
                    edge, token, workspace.id, args.rounds // 4, cold=True
                ),
            },
            "target_p50_us": 500,
        }
        await database.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
