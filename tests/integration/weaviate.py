"""A real Weaviate server for the tests: built once per machine from its Go module
(``make test`` runs ``go install``), started on 127.0.0.1 with a temp data dir and
anonymous access, stopped afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

VERSION = "v1.39.0"


@dataclass
class WeaviateServer:
    host: str
    port: int
    grpc_port: int


def binary() -> Path | None:
    candidates = []
    if os.environ.get("CHORUS_WEAVIATE_BIN"):
        candidates.append(Path(os.environ["CHORUS_WEAVIATE_BIN"]))
    gobin = subprocess.run(["go", "env", "GOBIN"], capture_output=True, text=True).stdout.strip()
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    candidates += [Path(gobin) / "weaviate-server"] if gobin else []
    candidates += [Path(gopath) / "bin" / "weaviate-server"] if gopath else []
    found = shutil.which("weaviate-server")
    candidates += [Path(found)] if found else []
    return next((c for c in candidates if c.is_file()), None)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="session")
def weaviate_server() -> Iterator[WeaviateServer]:
    exe = binary()
    if exe is None:
        pytest.fail(
            "weaviate-server is not built: run `make test` (it runs `go install "
            f"github.com/weaviate/weaviate/cmd/weaviate-server@{VERSION}`)"
        )
    http, grpc, gossip, data, raft, raft_rpc, pprof = _free_ports(7)
    data_dir = tempfile.mkdtemp(prefix="chorus-weaviate-")
    env = {
        **os.environ,
        "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
        "PERSISTENCE_DATA_PATH": data_dir,
        "DEFAULT_VECTORIZER_MODULE": "none",
        "DISABLE_TELEMETRY": "true",
        "CLUSTER_HOSTNAME": "node1",
        "CLUSTER_ADVERTISE_ADDR": "127.0.0.1",
        "CLUSTER_GOSSIP_BIND_PORT": str(gossip),
        "CLUSTER_DATA_BIND_PORT": str(data),
        "RAFT_PORT": str(raft),
        "RAFT_INTERNAL_RPC_PORT": str(raft_rpc),
        "RAFT_BOOTSTRAP_EXPECT": "1",
        "GRPC_PORT": str(grpc),
        "GO_PROFILING_PORT": str(pprof),
        "LOG_LEVEL": "warning",
    }
    log = open(Path(data_dir) / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(exe), "--host", "127.0.0.1", "--port", str(http), "--scheme", "http"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"weaviate-server exited: {(Path(data_dir) / 'server.log').read_text()[-2000:]}"
                )
            try:
                if (
                    httpx.get(
                        f"http://127.0.0.1:{http}/v1/.well-known/ready", timeout=2
                    ).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("weaviate-server did not become ready in 120s")
        yield WeaviateServer("127.0.0.1", http, grpc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
