"""A real PostgreSQL server for integration tests, started from Debian's binaries.

The session fixture ``postgres_url`` is shared by every integration test through the
conftest (one server per test session). It yields an asyncpg URL. With
``CHORUS_TEST_POSTGRES_URL`` set it uses that server; otherwise it runs ``initdb`` and
``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` as the ``postgres`` user (the server
refuses to run as root) in a temporary directory, listening on 127.0.0.1 only, and
removes everything afterwards.
Missing binaries fail the tests: CI must always test PostgreSQL.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "CHORUS_TEST_POSTGRES_URL"
DATABASE = "chorus_test"
OS_USER = "postgres"


def postgres_bin_dir() -> Path:
    """The newest installed server's bin folder; fails the test run if there is none."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
    )
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
            "run `make test`, which installs Debian's postgresql package, or set "
            f"{ENV_URL} to a server's postgresql+asyncpg:// URL",
            pytrace=False,
        )
    return found[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("runuser (util-linux) is needed to start PostgreSQL as root", pytrace=False)
    return [runuser, "-u", OS_USER, "--", *cmd]


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(
        _as_server_user(cmd), cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr[-2000:]}")


class PostgresServer:
    """One throwaway server: data and socket in ``root``, TCP on 127.0.0.1:``port``."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        # /tmp, not $TMPDIR: the server's OS user must be able to reach the folder.
        self.root = Path(tempfile.mkdtemp(prefix="chorus-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{OS_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam(OS_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        _run(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data),
                "-U", OS_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            self.root,
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories='{self.root}' -c fsync=off"
        )
        _run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D", str(self.data),
                "-l", str(self.log_file),
                "-o", options,
                "-w", "-t", "60",
                "start",
            ],
            self.root,
        )  # fmt: skip
        _run(
            [
                str(self.bin_dir / "createdb"),
                "-h", "127.0.0.1",
                "-p", str(self.port),
                "-U", OS_USER,
                DATABASE,
            ],
            self.root,
        )  # fmt: skip

    def log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                _run(
                    [
                        str(self.bin_dir / "pg_ctl"),
                        "-D",
                        str(self.data),
                        "-m",
                        "fast",
                        "-w",
                        "stop",
                    ],
                    self.root,
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty database on a real PostgreSQL server, as a postgresql+asyncpg:// URL."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    server = PostgresServer(postgres_bin_dir())
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        tail = server.log_tail()
        server.stop()
        pytest.fail(f"could not start PostgreSQL: {exc}\n{tail}", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()
