"""Streamed tokens/s and time to first token: through the gateway vs llama.cpp directly.

Both paths run in the same run, on the same prompts, with greedy decoding, requests
interleaved (direct, gateway, direct, ...) so machine noise hits both alike:

- direct:  the llama.cpp engine server process (llama-server), called over HTTP (what the
           replica calls)
- gateway: ``chorus serve`` (Ray Serve proxy -> Gateway -> engine replica -> the same
           kind of server process)

Prints one JSON object; the ratios are what to compare across runs.
Usage: python benchmarks/engine_overhead.py [--rounds 12] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cluster.engines.engine_process import EngineProcess, launch_command  # noqa: E402
from cluster.log_config import configure_logging  # noqa: E402
from cluster.settings import EngineSettings  # noqa: E402

MODEL = "smollm2-135m-instruct"
#: What the engine replica adds to a greedy request (cluster/engines/kinds.py), so both
#: paths ask llama-server the same thing.
REPLICA_FIELDS = {"cache_prompt": False}
PROMPTS = [
    "Explain what a hash table is.",
    "Write a short poem about autumn.",
    "List three uses of copper.",
    "Why is the sky blue?",
    "Describe a good breakfast.",
    "What does a compiler do?",
]


async def stream_once(
    client: httpx.AsyncClient, url: str, prompt: str, max_tokens: int, **extra: object
) -> dict:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 1,
        "stream": True,
        **extra,
    }
    started = time.perf_counter()
    arrivals: list[float] = []
    async with client.stream("POST", url, json=body) as resp:
        resp.raise_for_status()
        async for line in resp.aiter_lines():
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            chunk = json.loads(line[5:])
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                arrivals.append(time.perf_counter())
    total = time.perf_counter() - started
    return {
        "started": started,
        "ended": started + total,
        "ttft_ms": (arrivals[0] - started) * 1000,
        "tokens": len(arrivals),
        "decode_tps": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        if len(arrivals) > 1
        else 0,
        "e2e_tps": len(arrivals) / total,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, data_dir: str, **env_extra: str) -> subprocess.Popen:
    env = {**os.environ, "CHORUS_PORT": str(port), "CHORUS_DATA_DIR": data_dir, **env_extra}
    chorus = Path(sys.executable).parent / "chorus"
    proc = subprocess.Popen(
        [str(chorus), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Chorus is listening" in line:
            # Keep reading: a full pipe would block the server's logging, and its shutdown.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc
    raise RuntimeError("chorus serve exited before it was ready")


#: The niceness Ray gives its worker processes (raylet's worker_niceness default).
RAY_WORKER_NICENESS = 15


def summarise(runs: list[dict]) -> dict:
    ttft = sorted(r["ttft_ms"] for r in runs)
    return {
        "requests": len(runs),
        "ttft_ms_p50": statistics.median(ttft),
        "ttft_ms_p90": ttft[int(0.9 * (len(ttft) - 1))],
        "decode_tokens_per_s": statistics.median(r["decode_tps"] for r in runs),
        "e2e_tokens_per_s": statistics.median(r["e2e_tps"] for r in runs),
        "tokens_per_request": statistics.median(r["tokens"] for r in runs),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment of chorus serve (settings, Ray Serve feature flags); repeatable",
    )
    args = parser.parse_args()
    configure_logging("WARNING")  # logs to stderr; stdout is the JSON result

    settings = EngineSettings(name=MODEL)
    # Ray starts its workers at nice 15 and the replica's llama-server inherits it; the
    # direct server gets the same priority, or it starves the other one on 2 cores.
    nice = ["nice", "-n", str(RAY_WORKER_NICENESS)]
    direct = EngineProcess(MODEL, lambda port: [*nice, *launch_command(settings, port)])
    await direct.start()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server_env = dict(item.split("=", 1) for item in args.env)
        server = start_server(port, data_dir, **server_env)
        try:
            # A connection per request on both paths: llama-server drops kept-alive
            # connections silently and a request reusing one fails ("Server disconnected
            # without sending a response", one in ten back to back).
            fresh = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(timeout=120, limits=fresh) as client:
                urls = {
                    "direct": direct.base_url + "/v1/chat/completions",
                    "gateway": f"http://127.0.0.1:{port}/v1/chat/completions",
                }
                for url in urls.values():  # warm both paths
                    await stream_once(client, url, "Hello", 8)
                runs: dict[str, list[dict]] = {"direct": [], "gateway": []}
                for i in range(args.rounds):
                    prompt = PROMPTS[i % len(PROMPTS)]
                    order = ["direct", "gateway"] if i % 2 == 0 else ["gateway", "direct"]
                    for name in order:
                        extra = REPLICA_FIELDS if name == "direct" else {}
                        runs[name].append(
                            await stream_once(client, urls[name], prompt, args.max_tokens, **extra)
                        )
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(60)
            await direct.stop()

    d, g = summarise(runs["direct"]), summarise(runs["gateway"])
    print(
        json.dumps(
            {
                "benchmark": "engine_overhead",
                "date": time.strftime("%Y-%m-%d"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "model": MODEL,
                "max_tokens": args.max_tokens,
                "server_env": dict(item.split("=", 1) for item in args.env),
                "direct": d,
                "gateway": g,
                "decode_throughput_ratio": g["decode_tokens_per_s"] / d["decode_tokens_per_s"],
                "e2e_throughput_ratio": g["e2e_tokens_per_s"] / d["e2e_tokens_per_s"],
                "added_ttft_ms_p50": g["ttft_ms_p50"] - d["ttft_ms_p50"],
                "targets": {"throughput_ratio": ">= 0.95", "added_ttft_ms_p50": "<= 10"},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
