"""A model server process supervised by its engine replica: start, health-wait, restart.

The llama.cpp and SGLang engines differ only in the command this runs; the rest
(port choice, readiness, restart with back-off, the 503 while down) is shared.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import time
from collections.abc import Callable

import httpx
import structlog

from agents.errors import UpstreamUnavailableError
from cluster.settings import EngineSettings

log = structlog.get_logger(__name__)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the replica dies, so no server is orphaned."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def launch_command(settings: EngineSettings, port: int) -> list[str]:
    """The command that starts the engine's OpenAI-compatible server on ``port``."""
    from cluster.engines.kinds import engine_kinds

    return engine_kinds().get(settings.kind).launch_command(settings, port)


class EngineProcess:
    """Runs ``command(port)`` and keeps it running.

    While the process is starting or restarting, :meth:`check` raises
    :class:`UpstreamUnavailableError` with a retry hint, which the gateway turns
    into a 503 with ``Retry-After``.
    """

    def __init__(
        self,
        name: str,
        command: Callable[[int], list[str]],
        *,
        startup_timeout_s: float = 600,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self._command = command
        self._startup_timeout_s = startup_timeout_s
        self._env = {**os.environ, **(env or {})}
        self._proc: asyncio.subprocess.Process | None = None
        self._port = 0
        self._ready = False
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None
        self.restarts = 0
        self._last_start = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def ready(self) -> bool:
        return self._ready and self._proc is not None and self._proc.returncode is None

    def check(self) -> None:
        """Raise UpstreamUnavailableError unless the server is up."""
        if not self.ready:
            raise UpstreamUnavailableError(
                f"model '{self.name}' is restarting; retry shortly",
                retry_after=5.0,
                details={"model": self.name},
            )

    async def start(self) -> None:
        """Start the process, wait until it answers ``GET /health``, then supervise it."""
        await self._spawn()
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(), name=f"watch-{self.name}")

    async def _spawn(self) -> None:
        # A restarted server keeps its port, so clients of base_url need not change.
        self._port = self._port or free_port()
        cmd = self._command(self._port)
        self._last_start = time.monotonic()
        log.info("engine_process_starting", model=self.name, cmd=" ".join(cmd))
        self._proc = await asyncio.create_subprocess_exec(
            *cmd, env=self._env, preexec_fn=_die_with_parent
        )
        try:
            await self._wait_healthy()
        except Exception:
            self._port = 0  # perhaps someone else took the port: pick another next time
            raise
        self._ready = True
        log.info("engine_process_ready", model=self.name, pid=self._proc.pid, port=self._port)

    async def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._startup_timeout_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._proc.returncode is not None:
                    raise RuntimeError(
                        f"engine server for '{self.name}' exited with code "
                        f"{self._proc.returncode} while starting"
                    )
                try:
                    resp = await client.get(self.base_url + "/health")
                    if resp.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        await self._kill()
        raise RuntimeError(
            f"engine server for '{self.name}' not healthy after {self._startup_timeout_s}s"
        )

    async def _watch(self) -> None:
        """Restart the process whenever it exits, with back-off if it keeps dying."""
        backoff = 1.0
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            self._ready = False
            if self._stopping:
                return
            log.warning("engine_process_exited", model=self.name, code=code)
            if time.monotonic() - self._last_start > 60:
                backoff = 1.0
            while not self._stopping:
                try:
                    self.restarts += 1
                    await self._spawn()
                    break
                except Exception as exc:  # noqa: BLE001 - keep trying; logged
                    log.error("engine_process_restart_failed", model=self.name, error=str(exc))
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)

    async def _kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), timeout=10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()

    def terminate(self) -> None:
        """Synchronous last resort (replica shutdown): stop supervising, SIGTERM the server."""
        self._stopping = True
        self._ready = False
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()

    async def stop(self) -> None:
        self._stopping = True
        self._ready = False
        if self._watcher is not None:
            self._watcher.cancel()
        await self._kill()
