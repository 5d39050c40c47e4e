"""CPU per turn of the store writes a chat turn makes, on SQLite (the embedded default).

A turn writes twice: its question with the pending answer (``add_messages``), then the
finished answer with its prompt record (``update_message(..., prompts)``). This times
that pair ``--turns`` times in one conversation and prints CPU and wall milliseconds per
turn (process CPU: the event loop and aiosqlite's thread).

``--baseline FILE`` times a second ``SqlConversationStore`` from another version of
``cluster/store/conversation_store.py`` in the same run, interleaved in rounds, and
prints the ratio, e.g.::

    git show <commit>:cluster/store/conversation_store.py > /tmp/old_store.py
    python benchmarks/turn_writes.py --baseline /tmp/old_store.py
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.apps.spec import AppSpec  # noqa: E402
from agents.conversation.records import (  # noqa: E402
    ConversationRecord,
    MessageRecord,
    PromptRecord,
)
from cluster.log_config import configure_logging  # noqa: E402


def store_class(path: str | None) -> Any:
    if path is None:
        from cluster.store.conversation_store import SqlConversationStore

        return SqlConversationStore
    spec = importlib.util.spec_from_file_location("baseline_store", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SqlConversationStore


async def time_turns(cls: Any, turns: int) -> dict[str, float]:
    """CPU and wall ms per turn of ``turns`` turns' writes in a fresh SQLite store."""
    with tempfile.TemporaryDirectory() as data:
        store = cls(f"sqlite+aiosqlite:///{data}/chorus.db")
        await store.start()
        ws = "ws_bench"
        app = await store.create_app(ws, AppSpec(name="chat"))
        conv = await store.create_conversation(
            ConversationRecord(id=f"conv_{uuid.uuid4().hex}", workspace_id=ws, app_id=app.id)
        )

        def message(seq: int, **fields: Any) -> MessageRecord:
            return MessageRecord(
                id=f"msg_{uuid.uuid4().hex}",
                conversation_id=conv.id,
                workspace_id=ws,
                seq=seq,
                turn_id=f"turn_{seq // 2}",
                **fields,
            )

        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(turns):
            question = message(2 * i, role="user", content="a question of ten words " * 2)
            answer = message(2 * i + 1, role="assistant", content="", status="pending")
            await store.add_messages([question, answer])
            done = MessageRecord.model_validate(
                answer.model_dump()
                | {
                    "content": "word " * 20,
                    "status": "complete",
                    "usage": {"prompt_tokens": 40, "completion_tokens": 20, "latency_ms": 30.0},
                }
            )
            prompt = PromptRecord(
                turn_id=answer.turn_id,
                conversation_id=conv.id,
                workspace_id=ws,
                messages=[{"role": "user", "content": question.content}],
                model="scripted",
            )
            await store.update_message(done, prompts=[prompt])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stored = await store.list_messages(ws, conv.id)
        assert len(stored) == 2 * turns and stored[-1].status == "complete"
        await store.close()
    return {"cpu_ms": 1000 * cpu / turns, "wall_ms": 1000 * wall / turns}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    current = store_class(None)
    baseline = store_class(args.baseline) if args.baseline else None
    rounds: dict[str, list[dict[str, float]]] = {"current": [], "baseline": []}
    await time_turns(current, 20)  # warm both: imports, statement caches
    if baseline is not None:
        await time_turns(baseline, 20)
    for _ in range(args.rounds):
        rounds["current"].append(await time_turns(current, args.turns))
        if baseline is not None:
            rounds["baseline"].append(await time_turns(baseline, args.turns))

    def median(runs: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    out: dict[str, Any] = {
        "benchmark": "turn_writes",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"python": platform.python_version()},
        "turns_per_round": args.turns,
        "rounds": args.rounds,
        "current": {k: median(rounds["current"], k) for k in ("cpu_ms", "wall_ms")},
    }
    if baseline is not None:
        out["baseline"] = {k: median(rounds["baseline"], k) for k in ("cpu_ms", "wall_ms")}
        out["baseline_file"] = args.baseline
        out["ratio_cpu_current_vs_baseline"] = round(
            out["current"]["cpu_ms"] / out["baseline"]["cpu_ms"], 3
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300, help="turns per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=None, help="another conversation_store.py")
    configure_logging("WARNING")  # stdout is the JSON only
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
