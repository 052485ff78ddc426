"""Child processes for the benchmark: started in their own process group, logged to files, and
always stopped (group by group, by id) when the `Children` context exits, errors and Ctrl-C
included. Also their memory: VmRSS of a process and its descendants (uvicorn's workers)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


class ChildFailed(RuntimeError):
    """A child exited early or never became ready; the message holds its log's tail."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


_Handler = Callable[[int, FrameType | None], Any] | int | None


class Child:
    def __init__(self, name: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.name = name
        self.process = process
        self.log = log

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise ChildFailed(f"{self.name} exited with {code}:\n{log_tail(self.log)}")

    def wait_for_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return
            time.sleep(0.05)
        raise ChildFailed(f"{self.name} did not listen on {port}:\n{log_tail(self.log)}")

    def wait_for_http(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.1)
        raise ChildFailed(f"{self.name} did not answer {url}:\n{log_tail(self.log)}")

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the child's process group (uvicorn workers included), SIGKILL after grace."""
        self.terminate()
        self.wait_stopped(grace)

    def terminate(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_stopped(self, grace: float) -> None:
        """Wait up to `grace` seconds for the child to exit, then SIGKILL its process group."""
        try:
            self.process.wait(max(grace, 0.0))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Children:
    """Starts children in new sessions (so a terminal's Ctrl-C reaches only us) and stops them
    all on exit. SIGTERM to the benchmark itself also unwinds through here."""

    def __init__(self, log_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.env = dict(os.environ if env is None else env)
        self.children: list[Child] = []
        self._previous_handler: _Handler = None

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                list(argv),
                cwd=REPO,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def stop(self, child: Child) -> None:
        child.stop()
        self.children.remove(child)

    def __enter__(self) -> Children:
        self._previous_handler = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # All at once: each shuts down (flushing its writes) while the others do.
        for child in reversed(self.children):
            child.terminate()
        deadline = time.monotonic() + 10.0  # then SIGKILL
        for child in reversed(self.children):
            child.wait_stopped(deadline - time.monotonic())
        self.children.clear()
        signal.signal(signal.SIGTERM, self._previous_handler or signal.SIG_DFL)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises SystemExit while inside, so `finally` blocks (a database to drop) run."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, parents before children (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(sorted(children.get(current, [])))
    return found


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB; None once it has exited (or for a zombie: no VmRSS line)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def tree_rss(pid: int) -> dict[int, int]:
    """VmRSS in KiB of `pid` and each of its descendants that is still alive."""
    found = {}
    for member in descendants(pid):
        kib = rss_kib(member)
        if kib is not None:
            found[member] = kib
    return found


def log(message: str) -> None:
    """Progress, on stderr (stdout holds the report)."""
    print(message, file=sys.stderr, flush=True)


def run_cli(argv: Sequence[str], env: Mapping[str, str], stdin: str | None = None) -> str:
    """Run a command to completion and return its stdout; fail loudly with its stderr."""
    done = subprocess.run(
        list(argv),
        cwd=REPO,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ChildFailed(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout
