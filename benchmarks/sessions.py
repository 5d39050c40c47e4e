"""Sessions: orchestration overhead per chat turn, and memory per idle conversation.

Starts ``chorus serve`` with one ``scripted`` engine (a fixed reply, no token delay),
so the model is not the bottleneck and what is measured is Chorus: the Serve proxy,
the gateway, the session shard, the store writes of a turn and the Ray hops of each
streamed event. In the same run, a bare ``websockets`` echo server on loopback is the
baseline: one reply frame per message frame, the least any websocket server can do.

- overhead: time from sending a ``message`` frame to the first ``delta`` event, minus
  the scripted engine's own time to first token (measured in-process), at 1 session
  and at ``--concurrency`` sessions, each running ``--turns`` turns back to back;
- paced (with ``--think-s``): the ``--concurrency`` sessions again, each pausing about
  ``--think-s`` between turns as people do, so latency is measured below saturation;
- echo: the same round trip against the echo server, at the same concurrencies;
- idle: ``--idle`` conversations opened (``start`` frames over a few sockets, no
  messages), RSS of the SessionShard processes before and after, bytes per session,
  and how many such sessions the machine's available memory would hold.

Prints one JSON object on stdout (logs go to stderr).
Usage: python benchmarks/sessions.py [--turns 8] [--concurrency 100] [--idle 10000]
       [--think-s 0]   (> 0: one more run of the sessions pausing between turns)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.engine import ChatMessage, ChatRequest  # noqa: E402
from agents.scripted_engine import ScriptedEngine  # noqa: E402
from cluster.settings import DEFAULT_SCRIPTED_REPLY, ChorusSettings  # noqa: E402

ENGINE = "bench-scripted"
#: ``scripted`` (in the engine replica, relayed) or ``scripted_server`` (a server process
#: the shards read directly, the path llama.cpp's tokens take); ``--engine-kind``.
ENGINE_KIND = "scripted"
MESSAGE = "How are you today?"
#: What the echo server answers: about the size of a delta event.
ECHO_REPLY = json.dumps(
    {
        "type": "delta",
        "conversation_id": "conv_" + "x" * 26,
        "message_id": "msg_" + "x" * 26,
        "content": "reply ",
    }
)
RECV_TIMEOUT_S = 300


def log(event: str, **kw: Any) -> None:
    print(json.dumps({"event": event, **kw}), file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99 (nearest rank) of samples in seconds, as milliseconds."""
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)] * 1000

    return {
        "p50": round(statistics.median(ordered) * 1000, 3),
        "p90": round(rank(0.90), 3),
        "p99": round(rank(0.99), 3),
    }


# -- the server ------------------------------------------------------------------------


def start_server(
    port: int,
    data_dir: str,
    log_path: Path,
    timeout: float = 600,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    engines = [{"name": ENGINE, "kind": ENGINE_KIND, "scripted_token_delay_s": 0}]
    env = {
        **os.environ,
        "CHORUS_PORT": str(port),
        "CHORUS_DATA_DIR": data_dir,
        "CHORUS_ENGINES": json.dumps(engines),
        **(extra_env or {}),
    }
    env.pop("RAY_ADDRESS", None)  # always a fresh local Ray of our own
    env.pop("CHORUS_CONFIG", None)  # and no settings file (cwd is the empty data dir)
    chorus = Path(sys.executable).parent / "chorus"
    with open(log_path, "w") as out:
        proc = subprocess.Popen(
            [str(chorus), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=data_dir
        )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if "Chorus is listening" in log_path.read_text(errors="replace"):
                return proc
            time.sleep(0.5)
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"chorus serve did not become ready:\n{tail}")
    except BaseException:
        stop_server(proc)
        raise


def stop_server(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def create_app(base: str) -> str:
    body = {"name": "bench-sessions", "model": {"model": ENGINE, "max_tokens": 64}}
    resp = httpx.post(base + "/api/apps", json=body, timeout=60)
    resp.raise_for_status()
    app_id = str(resp.json()["id"])
    httpx.post(base + f"/api/apps/{app_id}/publish", timeout=60).raise_for_status()
    return app_id


def ray_processes(server_pid: int, marker: str) -> list[psutil.Process]:
    """Our server's Ray worker processes whose command line names ``marker``."""
    found = []
    for proc in psutil.Process(server_pid).children(recursive=True):
        try:
            if marker in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def replica_port(server_pid: int) -> int:
    """The port the gateway replica serves HTTP on itself (Serve's direct ingress)."""
    for proc in ray_processes(server_pid, "ServeReplica:chorus:Gateway"):
        ports = [
            c.laddr.port
            for c in proc.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and 30000 <= c.laddr.port <= 31000
        ]
        if ports:
            return min(ports)
    raise RuntimeError("no gateway replica listens on its own port: is direct ingress on?")


def rss(procs: list[psutil.Process]) -> int:
    return sum(p.memory_info().rss for p in procs)


#: Which part of the server a process is, by a marker in its command line (first match).
ROLES = [
    ("model_server", "scripted_server"),
    ("model_server", "llama-server"),
    ("session_shards", "SessionShard"),
    ("gateway", "Gateway"),
    ("engine_replica", "engine-"),
    ("embedding_replica", "EmbeddingDeployment"),
    ("serve_proxy", "ProxyActor"),
    ("haproxy", "haproxy"),
    ("serve_controller", "ServeController"),
    ("raylet", "raylet"),
    ("gcs", "gcs_server"),
]


def cpu_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each part of the server, and by us."""
    server = psutil.Process(server_pid)
    out: dict[str, float] = {}
    for proc in [server, *server.children(recursive=True), psutil.Process()]:
        try:
            times = proc.cpu_times()
            line = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if proc.pid == os.getpid():
            role = "benchmark_client"
        elif proc.pid == server_pid:
            role = "chorus_serve_driver"
        else:
            role = next((r for r, marker in ROLES if marker in line), "other_ray")
        out[role] = out.get(role, 0.0) + times.user + times.system
    return out


# -- where the time goes: py-spy on each part of the server ----------------------------

PROFILED_ROLES = ("session_shards", "gateway", "engine_replica", "serve_proxy")


def start_profilers(
    server_pid: int, out_dir: str
) -> list[tuple[str, Path, subprocess.Popen[bytes]]]:
    """One ``py-spy record`` (collapsed stacks, GIL holders only) per process of the
    profiled roles, until :func:`stop_profilers`."""
    spy = Path(sys.executable).with_name("py-spy")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    spies = []
    for role, marker in ROLES:
        if role not in PROFILED_ROLES:
            continue
        for proc in ray_processes(server_pid, marker):
            out = Path(out_dir) / f"{role}-{proc.pid}.txt"
            cmd = [str(spy), "record", "--format", "raw", "--gil", "--rate", "200",
                   "--nonblocking", "-o", str(out), "--pid", str(proc.pid)]  # fmt: skip
            spies.append(
                (
                    role,
                    out,
                    subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                )
            )
    return spies


def stop_profilers(spies: list[tuple[str, Path, subprocess.Popen[bytes]]]) -> dict[str, Any]:
    """Each role's share of samples by our own functions (inclusive) and by the leaf
    function that was running (self), from the collapsed stacks."""
    for _role, _out, spy in spies:
        spy.send_signal(signal.SIGINT)
    for _role, _out, spy in spies:
        spy.wait(timeout=60)
    report: dict[str, Any] = {}
    for role in PROFILED_ROLES:
        inclusive: dict[str, int] = {}
        leaf: dict[str, int] = {}
        total = 0
        for _role, out, _spy in (s for s in spies if s[0] == role):
            if not out.exists():
                continue
            for line in out.read_text().splitlines():
                stack, _, count_text = line.rpartition(" ")
                count = int(count_text)
                frames = stack.split(";")
                total += count
                last = _short(frames[-1])
                leaf[last] = leaf.get(last, 0) + count
                for name in {_short(f) for f in frames if _ours(f)}:
                    inclusive[name] = inclusive.get(name, 0) + count

        report[role] = {"samples": total, "ours_inclusive_pct": _top(inclusive, total),
                        "self_pct": _top(leaf, total)}  # fmt: skip
    return report


def _top(counts: dict[str, int], total: int, n: int = 15) -> dict[str, float]:
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:n]
    return {name: round(100 * c / max(total, 1), 1) for name, c in ranked}


def _ours(frame: str) -> bool:
    return any(f"({part}/" in frame for part in ("agents", "cluster", "channels"))


def _short(frame: str) -> str:
    """``function (path/to/file.py:12)`` as ``function (file.py)``."""
    name, _, where = frame.partition(" (")
    file = where.rsplit("/", 1)[-1].split(":", 1)[0]
    return f"{name} ({file})" if file else name


# -- websocket clients -----------------------------------------------------------------


async def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S))  # type: ignore[no-any-return]


async def open_socket(url: str) -> ClientConnection:
    return await connect(url, open_timeout=RECV_TIMEOUT_S, ping_interval=None, max_queue=None)


#: Ask the server for batch frames (--batch-frames).
BATCH_FRAMES = False


async def events_of(ws: ClientConnection) -> list[dict[str, Any]]:
    """The events of the next frame (a batch frame holds several)."""
    frame = await recv(ws)
    return frame["events"] if frame["type"] == "batch" else [frame]  # type: ignore[no-any-return]


async def start_conversation(ws: ClientConnection, app_id: str) -> str:
    await ws.send(json.dumps({"type": "start", "app_id": app_id, "batch": BATCH_FRAMES}))
    event = await recv(ws)
    if event["type"] != "conversation_started":
        raise RuntimeError(f"start refused: {event}")
    return str(event["conversation_id"])


async def chat_turn(ws: ClientConnection) -> tuple[float, float, int, float]:
    """One turn: (seconds to the first delta, seconds to message_end, refusals, the
    shard's own time to first token in seconds, from its ``usage`` event).

    A ``message`` sent right after ``message_end`` can be refused with
    ``turn_in_progress`` (the gateway has not yet seen the previous turn's stream
    end); it is then sent again after a short pause, and the turn is timed from the
    send that was accepted. The refusals are counted and reported."""
    frame = json.dumps({"type": "message", "content": MESSAGE})
    refusals = 0
    started = time.perf_counter()
    await ws.send(frame)
    first: float | None = None
    shard_ttft = 0.0
    while True:
        for event in await events_of(ws):
            if event["type"] == "usage":
                shard_ttft = (event.get("time_to_first_token_ms") or 0.0) / 1000
            elif event["type"] == "delta" and first is None:
                first = time.perf_counter()
            elif event["type"] == "error" and event["code"] == "turn_in_progress" and not first:
                refusals += 1
                await asyncio.sleep(0.002)
                started = time.perf_counter()
                await ws.send(frame)
            elif event["type"] == "error":
                raise RuntimeError(f"turn failed: {event}")
            elif event["type"] == "message_end":
                if first is None or event["status"] != "complete":
                    raise RuntimeError(f"turn ended without an answer: {event}")
                return first - started, time.perf_counter() - started, refusals, shard_ttft


async def chorus_latency(
    url: str,
    app_id: str,
    sessions: int,
    turns: int,
    conversations: int = 1,
    think_s: float = 0.0,
) -> dict[str, Any]:
    """``sessions`` sockets at once; each runs ``conversations`` conversations one after
    the other, each of ``turns`` turns. Turns follow each other at once, or, with
    ``think_s``, after a pause of 0.5-1.5 x ``think_s`` (sessions start staggered)."""
    sockets = await asyncio.gather(*(open_socket(url) for _ in range(sessions)))
    try:
        await asyncio.gather(*(start_conversation(ws, app_id) for ws in sockets))

        async def run(n: int, ws: ClientConnection) -> list[tuple[float, float, int, float]]:
            pace = random.Random(n)
            await asyncio.sleep(pace.uniform(0, think_s))
            out = []
            for i in range(conversations):
                if i:
                    await start_conversation(ws, app_id)
                for j in range(turns):
                    if j and think_s:
                        await asyncio.sleep(think_s * pace.uniform(0.5, 1.5))
                    out.append(await chat_turn(ws))
            return out

        started = time.perf_counter()
        results = await asyncio.gather(*(run(n, ws) for n, ws in enumerate(sockets)))
        wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    samples = [s for per_socket in results for s in per_socket]
    return {
        "sessions": sessions,
        "turns": len(samples),
        "first_delta_ms": percentiles([s[0] for s in samples]),
        "turn_ms": percentiles([s[1] for s in samples]),
        "shard_prompt_to_first_token_ms": percentiles([s[3] for s in samples]),
        "turns_per_s": round(len(samples) / wall, 1),
        "turn_in_progress_refusals": sum(s[2] for s in samples),
    }


async def echo_latency(url: str, clients: int, rounds: int) -> dict[str, Any]:
    sockets = await asyncio.gather(*(open_socket(url) for _ in range(clients)))
    frame = json.dumps({"type": "message", "content": MESSAGE})

    async def run(ws: ClientConnection) -> list[float]:
        out = []
        for _ in range(rounds):
            started = time.perf_counter()
            await ws.send(frame)
            await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S)
            out.append(time.perf_counter() - started)
        return out

    try:
        started = time.perf_counter()
        results = await asyncio.gather(*(run(ws) for ws in sockets))
        wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    samples = [s for per_socket in results for s in per_socket]
    return {
        "clients": clients,
        "round_trips": len(samples),
        "round_trip_ms": percentiles(samples),
        "round_trips_per_s": round(len(samples) / wall, 1),
    }


async def open_idle(url: str, app_id: str, count: int, sockets: int) -> float:
    """Open ``count`` conversations over ``sockets`` sockets; returns the seconds taken."""
    conns = await asyncio.gather(*(open_socket(url) for _ in range(sockets)))
    share = [count // sockets + (1 if i < count % sockets else 0) for i in range(sockets)]
    done = 0

    async def run(ws: ClientConnection, n: int) -> None:
        nonlocal done
        for _ in range(n):
            await start_conversation(ws, app_id)
            done += 1
            if done % 1000 == 0:
                log("idle_progress", started=done, of=count)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(run(ws, n) for ws, n in zip(conns, share, strict=True)))
        return time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)


# -- baselines -------------------------------------------------------------------------


async def engine_ttft(samples: int = 2000) -> dict[str, float]:
    """The scripted engine's own time to first token, in-process (no Ray, no network)."""
    engine = ScriptedEngine([DEFAULT_SCRIPTED_REPLY], model=ENGINE)
    request = ChatRequest(
        model=ENGINE, messages=[ChatMessage(role="user", content=MESSAGE)], stream=True
    )
    out = []
    for _ in range(samples):
        engine.requests.clear()
        started = time.perf_counter()
        stream = engine.chat_stream(request)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                out.append(time.perf_counter() - started)
                break
        await stream.aclose()  # type: ignore[attr-defined]
    return percentiles(out)


async def serve_echo() -> None:
    """The baseline server (run in its own process): one reply frame per frame."""
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        async for _ in ws:
            await ws.send(ECHO_REPLY)

    async with serve(handler, "127.0.0.1", 0) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.Event().wait()


def start_echo() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-echo"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    if not port:
        proc.kill()
        raise RuntimeError("the echo server did not start")
    return proc, f"ws://127.0.0.1:{port}"


# -- the run ---------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace, base: str, server: subprocess.Popen[bytes]
) -> dict[str, Any]:
    url = base.replace("http://", "ws://") + "/ws/chat"
    app_id = create_app(base)
    log("app_created", app_id=app_id)

    warm = await chorus_latency(url, app_id, 4, 3)  # shards, engine handle, store: warm
    log("warmed", **warm)
    # Conversations of --turns turns stay inside the app's memory window (20 messages),
    # so no turn pays for a summary call: what is timed is a plain turn.
    single = await chorus_latency(
        url, app_id, 1, args.turns, conversations=math.ceil(args.single_turns / args.turns)
    )
    log("chorus_single", **single)
    cpu_before = cpu_by_role(server.pid)
    spies = start_profilers(server.pid, args.py_spy) if args.py_spy else []
    many = await chorus_latency(url, app_id, args.concurrency, args.turns)
    cpu_after = cpu_by_role(server.pid)
    if spies:
        many["profile"] = stop_profilers(spies)
    many["cpu_ms_per_turn"] = {
        role: round((cpu_after[role] - cpu_before.get(role, 0.0)) * 1000 / many["turns"], 2)
        for role in sorted(cpu_after, key=lambda r: cpu_before.get(r, 0.0) - cpu_after[r])
    }
    server_roles = {r: v for r, v in many["cpu_ms_per_turn"].items() if r != "benchmark_client"}
    many["server_cpu_ms_per_turn"] = round(sum(server_roles.values()), 2)
    many["server_cpu_ms_per_turn_without_model_server"] = round(
        many["server_cpu_ms_per_turn"] - server_roles.get("model_server", 0.0), 2
    )
    log("chorus_concurrent", **many)
    paced = None
    if args.think_s > 0:  # the same sessions at a person's pace: latency without a queue
        paced = await chorus_latency(
            url, app_id, args.concurrency, args.turns, think_s=args.think_s
        )
        paced["think_s"] = args.think_s
        log("chorus_paced", **paced)

    echo_proc, echo_url = start_echo()
    try:
        await echo_latency(echo_url, 4, 20)  # warm
        echo_single = await echo_latency(echo_url, 1, args.single_turns)
        echo_many = await echo_latency(echo_url, args.concurrency, args.turns)
    finally:
        echo_proc.terminate()
        echo_proc.wait(30)
    log("echo", single=echo_single, concurrent=echo_many)

    ttft = await engine_ttft()
    overhead = {
        str(run["sessions"]): {
            **run,
            "overhead_ms": {k: round(v - ttft["p50"], 3) for k, v in run["first_delta_ms"].items()},
        }
        for run in (single, many)
    }

    shards = ray_processes(server.pid, "SessionShard")
    gateways = ray_processes(server.pid, "Gateway")
    await asyncio.sleep(2)
    shard_before, gateway_before = rss(shards), rss(gateways)
    log("idle_start", sessions=args.idle, shard_processes=len(shards), shard_rss=shard_before)
    half = args.idle // 2  # two halves: the growth should be linear, not a one-off jump
    idle_s = await open_idle(url, app_id, half, args.idle_sockets)
    await asyncio.sleep(2)
    shard_half = rss(shards)
    idle_s += await open_idle(url, app_id, args.idle - half, args.idle_sockets)
    await asyncio.sleep(2)
    shard_after, gateway_after = rss(shards), rss(gateways)
    per_session = (shard_after - shard_before) / args.idle
    available = psutil.virtual_memory().available
    defaults = ChorusSettings.model_fields
    in_memory_cap = defaults["session_shards"].default * defaults["session_capacity"].default

    p50_many = overhead[str(args.concurrency)]["overhead_ms"]["p50"]
    return {
        "benchmark": "sessions",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "load_avg_1m_at_start_and_end": [args.load_at_start, round(os.getloadavg()[0], 2)],
        },
        "engine": f"{ENGINE_KIND}, no token delay "
        f"({len(DEFAULT_SCRIPTED_REPLY.split())}-word reply, one delta per word)",
        "setup": (
            "chorus serve with default settings (2 session shards) and one scripted engine; "
            "the client runs on the same machine; each session runs its turns back to back "
            "(no pause), so concurrent latency includes queueing; idle sessions are "
            "conversations opened with a start frame and no messages"
        ),
        "server_env": dict(item.split("=", 1) for item in args.env),
        "batch_frames": args.batch_frames,
        "to_replica": args.to_replica,
        "engine_ttft_ms_in_process": ttft,
        "chorus": overhead,
        "chorus_paced": paced
        and {
            **paced,
            "overhead_ms": {
                k: round(v - ttft["p50"], 3) for k, v in paced["first_delta_ms"].items()
            },
        },
        "echo": {str(r["clients"]): r for r in (echo_single, echo_many)},
        "ratio_first_delta_p50_vs_echo_p50": {
            "1": round(single["first_delta_ms"]["p50"] / echo_single["round_trip_ms"]["p50"], 1),
            str(args.concurrency): round(
                many["first_delta_ms"]["p50"] / echo_many["round_trip_ms"]["p50"], 1
            ),
        },
        "idle": {
            "sessions": args.idle,
            "sockets": args.idle_sockets,
            "open_s": round(idle_s, 1),
            "starts_per_s": round(args.idle / idle_s, 1),
            "shard_processes": len(shards),
            "shard_rss_before_mib": round(shard_before / 2**20, 1),
            "shard_rss_after_mib": round(shard_after / 2**20, 1),
            "bytes_per_session": round(per_session),
            "bytes_per_session_first_half": round((shard_half - shard_before) / max(half, 1)),
            "bytes_per_session_second_half": round(
                (shard_after - shard_half) / max(args.idle - half, 1)
            ),
            "gateway_bytes_per_session": round((gateway_after - gateway_before) / args.idle),
            "available_memory_gib": round(available / 2**30, 1),
            "sessions_that_fit_in_available_memory": int(available / per_session)
            if per_session > 0
            else None,
            "sessions_kept_in_memory_by_default_settings": in_memory_cap,
        },
        "targets": {"overhead_ms_p50_at_100": "<= 10", "idle_bytes_per_session": "<= 51200"},
        "met": {
            "overhead": args.concurrency == 100 and p50_many <= 10,
            "idle": args.idle >= 10_000 and per_session <= 50 * 1024,
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=8, help="turns per conversation")
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent sessions")
    parser.add_argument(
        "--single-turns", type=int, default=96, help="turns at 1 session, in --turns conversations"
    )
    parser.add_argument(
        "--think-s",
        type=float,
        default=0.0,
        help="also run --concurrency sessions pausing about this long between turns",
    )
    parser.add_argument("--idle", type=int, default=10_000, help="idle conversations to open")
    parser.add_argument("--idle-sockets", type=int, default=20, help="sockets that open them")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment of chorus serve (settings, Ray Serve feature flags); repeatable",
    )
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="profile shards, gateway, engine replica and proxy during the concurrent run "
        "(collapsed stacks in DIR, a summary in the output; py-spy slows what it samples)",
    )
    parser.add_argument(
        "--engine-kind",
        choices=["scripted", "scripted_server"],
        default="scripted",
        help="scripted: the reply is made in the engine replica and relayed; scripted_server: "
        "by a server process the shards stream from directly (like llama-server)",
    )
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--batch-frames", action="store_true", help="ask for batch frames in start frames"
    )
    parser.add_argument(
        "--to-replica",
        action="store_true",
        help="connect to the gateway replica's own HTTP port, past Serve's proxy (needs "
        "--env RAY_SERVE_ENABLE_DIRECT_INGRESS=1)",
    )
    args = parser.parse_args()
    server_env = dict(item.split("=", 1) for item in args.env)
    global BATCH_FRAMES, ENGINE_KIND
    BATCH_FRAMES = args.batch_frames
    ENGINE_KIND = args.engine_kind
    if args.serve_echo:
        await serve_echo()
        return

    args.load_at_start = round(os.getloadavg()[0], 2)  # a shared VM: say how busy it was
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as data_dir:
        log_path = Path(data_dir) / "server.log"
        started = time.perf_counter()
        server = start_server(port, data_dir, log_path, extra_env=server_env)
        log("server_ready", port=port, seconds=round(time.perf_counter() - started, 1))
        try:
            if args.to_replica:
                port = replica_port(server.pid)
                log("to_replica", port=port)
            result = await measure(args, f"http://127.0.0.1:{port}", server)
        except BaseException:
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop_server(server)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
