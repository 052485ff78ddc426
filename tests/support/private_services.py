"""Private PostgreSQL and Redis servers a test may stop, restart and break at will: never the
machine's shared ones (other test runs use those).

PostgreSQL is a fresh cluster (`initdb`, trust auth) in a temporary directory on a free port,
run by `pg_ctl`. PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the
`postgres` user and its commands run through `runuser`. Redis is a `redis-server` without
persistence on a free port. Missing binaries skip the calling test loudly, unless
BIZGRAPH_REQUIRE_POSTGRES=1 / BIZGRAPH_REQUIRE_REDIS=1 (as `.ci/run` sets them), which fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.databases import REQUIRE_POSTGRES
from tests.support.redis import REQUIRE_REDIS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _skip_or_fail(reason: str, required: bool, variable: str) -> None:
    if required:
        pytest.fail(f"{reason} (but {variable}=1)")
    pytest.skip(reason)


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return shutil.which("runuser") is not None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test alone: `url` is its `postgres` database."""

    bin: Path
    data: Path
    port: int
    owner: str | None  # the user running the server when we are root, else None (ourselves)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*args]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        log = str(self.data.parent / "server.log")
        self._run(str(self.bin / "pg_ctl"), action, "-D", str(self.data), "-l", log, *extra)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        options += " -c fsync=off -c max_connections=100"
        self._pg_ctl("start", "-w", "-t", "60", "-o", options)

    def stop(self) -> None:
        """A fast shutdown: open sessions are terminated, as in a restart by an operator."""
        self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")

    def running(self) -> bool:
        status = self._run(str(self.bin / "pg_ctl"), "status", "-D", str(self.data), check=False)
        return status.returncode == 0


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private cluster, stopped and deleted on exit."""
    bin_dir = _postgres_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        _skip_or_fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: "
            "private-PostgreSQL fault tests SKIPPED",
            REQUIRE_POSTGRES,
            "BIZGRAPH_REQUIRE_POSTGRES",
        )
        raise AssertionError("unreachable")
    owner = "postgres" if os.geteuid() == 0 else None
    if owner is not None and not _user_exists(owner):
        _skip_or_fail(
            "running as root without a 'postgres' user to run a private PostgreSQL: "
            "private-PostgreSQL fault tests SKIPPED",
            REQUIRE_POSTGRES,
            "BIZGRAPH_REQUIRE_POSTGRES",
        )
    root = Path(tempfile.mkdtemp(prefix="bizgraph-pg-"))
    if owner is not None:
        shutil.chown(root, user=owner)
    server = PrivatePostgres(bin_dir, root / "data", free_port(), owner)
    try:
        server._run(
            str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        server.start()
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A started private redis-server, stopped on exit."""
    if shutil.which("redis-server") is None:
        _skip_or_fail(
            "redis-server not found: private-Redis fault tests SKIPPED",
            REQUIRE_REDIS,
            "BIZGRAPH_REQUIRE_REDIS",
        )
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
