"""Where the gateway's time goes: non-streaming chat at concurrency 1, under cProfile.

Optional, not part of `make bench`:

    .venv/bin/python -m bench.profile_gateway [--requests 2000] [--top 25]

Starts the fake upstream in its own process, prepares a fresh SQLite database as the benchmark
does, then serves the gateway app with uvicorn (httptools, uvloop) *in this process* and profiles
it while a separate load process (bench/load.py) sends the requests one at a time, after an
unprofiled warm-up. Prints the top entries by cumulative and by own time, and saves the raw
profile to bench/results/gateway.prof (`python -m pstats` or snakeviz can read it).

cProfile sees the event loop's thread only: time spent in aiosqlite's worker thread shows up as
the loop waiting (in the awaits that hand statements to it), not as SQLite's own functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
import uvloop
from sqlalchemy import event
from sqlalchemy.engine import Engine

from adapters.providers.openai import OpenAICompatibleProvider
from bench.deploy import CHAT_PATH, prepare_gateway
from bench.load import LoadResult
from bench.procs import ChildFailed, Children, free_port
from domain.usecases.metering import Metering

PROFILE_FILE = Path(__file__).resolve().parent / "results" / "gateway.prof"


class PhaseTimer:
    """Wall time of the gateway's steps per request, by wrapping their methods (and counting
    SQL statements with an engine event). Records only while `recording` is set."""

    PHASES: tuple[tuple[str, type[Any], str], ...] = (
        ("authenticate (key lookup)", Metering, "authenticate"),
        ("authorize (client, model, price, plan)", Metering, "authorize"),
        ("hold + journal (write + commit)", Metering, "hold_and_journal"),
        ("upstream call (aiohttp)", OpenAICompatibleProvider, "chat"),
        ("settle (usage + ledger + commit)", Metering, "settle"),
    )

    def __init__(self) -> None:
        self.recording = False
        self.seconds: dict[str, float] = {name: 0.0 for name, _, _ in self.PHASES}
        self.sql_statements = 0
        self.sql_seconds = 0.0
        self._sql_started: list[float] = []

    def install(self) -> None:
        for name, owner, attribute in self.PHASES:
            setattr(owner, attribute, self._timed(name, getattr(owner, attribute)))
        event.listen(Engine, "before_cursor_execute", self._before_sql)
        event.listen(Engine, "after_cursor_execute", self._after_sql)

    def _timed(
        self, name: str, method: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                if self.recording:
                    self.seconds[name] += time.perf_counter() - started

        return timed

    def _before_sql(self, *_: Any) -> None:
        self._sql_started.append(time.perf_counter())

    def _after_sql(self, *_: Any) -> None:
        started = self._sql_started.pop() if self._sql_started else time.perf_counter()
        if self.recording:
            self.sql_statements += 1
            self.sql_seconds += time.perf_counter() - started


async def drive(children: Children, name: str, url: str, key: str, requests: int) -> LoadResult:
    """Run bench.load in a child process for exactly `requests` requests at concurrency 1."""
    child = children.start(
        name,
        [
            *(sys.executable, "-m", "bench.load", "--url", url, "--key", key),
            *("--concurrency", "1", "--requests", str(requests)),
        ],
    )
    await asyncio.to_thread(child.process.wait)
    children.stop(child)
    output = child.log.read_text().strip().splitlines()
    if child.process.returncode != 0 or not output:
        raise ChildFailed(f"{name} failed:\n" + "\n".join(output[-20:]))
    return LoadResult(**orjson.loads(output[-1]))


@dataclass(frozen=True, slots=True)
class Pass:
    load: LoadResult
    wall: float
    cpu: float  # process CPU time, all threads (the event loop and aiosqlite's)


async def timed_pass(children: Children, url: str, key: str, requests: int, name: str) -> Pass:
    wall, cpu = time.perf_counter(), time.process_time()
    load = await drive(children, name, url, key, requests)
    return Pass(load, time.perf_counter() - wall, time.process_time() - cpu)


async def run_passes(
    children: Children,
    key: str,
    args: argparse.Namespace,
    timer: PhaseTimer,
    profiler: cProfile.Profile,
) -> tuple[Pass, Pass]:
    """Warm-up, a timed pass (phase timer on, no profiler), then the profiled pass."""
    port = free_port()
    config = uvicorn.Config(
        "api.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        http="httptools",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # startup failed: raise its error
                raise ChildFailed("the gateway stopped during startup")
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}{CHAT_PATH}"
        await drive(children, "warmup", url, key, args.warmup)
        timer.recording = True
        timed = await timed_pass(children, url, key, args.requests, "timed")
        timer.recording = False
        profiler.enable()
        try:
            profiled = await timed_pass(children, url, key, args.requests, "profiled")
        finally:
            profiler.disable()
        return timed, profiled
    finally:
        server.should_exit = True
        await serving


def print_phases(timer: PhaseTimer, timed: Pass) -> None:
    n = timed.load.completed
    per_request_ms = timed.wall / n * 1000
    print(
        f"Timed pass (no profiler): {n} requests, {n / timed.wall:.0f} req/s, client p50 "
        f"{timed.load.p50_ms:.2f} ms, mean {timed.load.mean_ms:.2f} ms; gateway process CPU "
        f"{timed.cpu / n * 1000:.2f} ms per request (all threads)\n"
    )
    print(f"{'step':<42} {'ms/request':>10} {'share':>6}")
    accounted = 0.0
    for name, seconds in timer.seconds.items():
        ms = seconds / n * 1000
        accounted += ms
        print(f"{name:<42} {ms:>10.3f} {ms / per_request_ms:>6.0%}")
    rest = per_request_ms - accounted
    label = "rest (HTTP, ASGI, JSON, client, loopback)"
    print(f"{label:<42} {rest:>10.3f} {rest / per_request_ms:>6.0%}")
    print(
        f"\nSQL: {timer.sql_statements / n:.1f} statements per request, "
        f"{timer.sql_seconds / n * 1000:.3f} ms per request from cursor execute to its result"
    )


def print_stats(profiler: cProfile.Profile, sort: str, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    # Drop pstats' preamble up to the column header line.
    text = out.getvalue()
    print(text[text.find("   ncalls") :].rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description="Profile the gateway (JSON chat, c=1).")
    parser.add_argument("--requests", type=int, default=2000, help="per pass")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    timer = PhaseTimer()
    timer.install()
    profiler = cProfile.Profile()
    with (
        tempfile.TemporaryDirectory(prefix="bizgraph-profile-") as tmp,
        Children(Path(tmp)) as children,
    ):
        upstream_port = free_port()
        upstream = children.start(
            "upstream", [sys.executable, "-m", "bench.upstream", "--port", str(upstream_port)]
        )
        upstream.wait_for_port(upstream_port)
        setup = prepare_gateway(Path(tmp), upstream_port, children.env)
        os.environ.update(setup.env)  # the in-process app reads its settings from here
        timed, profiled = uvloop.run(run_passes(children, setup.api_key, args, timer, profiler))
    print_phases(timer, timed)
    print(
        f"\nProfiled pass: {args.requests / profiled.wall:.0f} req/s, client p50 "
        f"{profiled.load.p50_ms:.2f} ms (cProfile slows Python code down; compare shares, not "
        "absolute times). Coroutines count one call per resumption, so ncalls overstates and "
        "cumulative times of awaiting frames overlap.\n"
    )
    print(f"Top {args.top} by cumulative time:")
    print_stats(profiler, "cumulative", args.top)
    print(f"\nTop {args.top} by own time:")
    print_stats(profiler, "tottime", args.top)
    PROFILE_FILE.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(PROFILE_FILE)
    print(f"\nraw profile: {PROFILE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
