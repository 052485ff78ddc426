"""Micro-benchmark of `Lookups.snapshot()`, the first step of every model call's authorization:
the configuration revision read on every call (before issue 11) against the revision checked in
the background by RevisionWatch (`bizgraph serve` since).

Not a test and not part of `make bench`: a timeit-style loop on a throwaway SQLite file (and a
PostgreSQL database when given one, migrated with `bizgraph migrate`), on uvloop as the gateway
runs. It prints the mean cost of one `snapshot()` call, sequential and with 32 concurrent
callers: `PYTHONPATH=src:. .venv/bin/python -m bench.snapshot_lookups [--postgres URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.revision import SqlConfigRevision
from adapters.persistence.unit_of_work import unit_of_work_factory
from runtime.lookups import Lookups, RevisionWatch

ROUNDS = 3
CALLS = 2000
CHECK_SECONDS = 0.25  # the default BIZGRAPH_CONFIG_CHECK_SECONDS


async def _sequential(lookups: Lookups, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await lookups.snapshot()
    return (time.perf_counter() - started) / calls


async def _concurrent(lookups: Lookups, calls: int, width: int = 32) -> float:
    async def one_caller() -> None:
        for _ in range(calls // width):
            await lookups.snapshot()

    started = time.perf_counter()
    await asyncio.gather(*(one_caller() for _ in range(width)))
    return (time.perf_counter() - started) / (calls // width * width)


async def _best(measure: Callable[[], Awaitable[float]]) -> float:
    return min([await measure() for _ in range(ROUNDS)])


async def measure(url: str, backend: str, watched: bool) -> None:
    engine = create_engine(url)
    source = SqlConfigRevision(engine)
    watch = RevisionWatch(source)
    checks = asyncio.create_task(watch.run(CHECK_SECONDS)) if watched else None
    try:
        lookups = Lookups(
            unit_of_work_factory(engine, read_only=True), watch if watched else source
        )
        await watch.check()
        await lookups.snapshot()  # warm: connection pool, statement cache
        calls = CALLS * (100 if watched else 1)
        alone = await _best(lambda: _sequential(lookups, calls))
        together = await _best(lambda: _concurrent(lookups, calls * 4))
        name = f"{backend}, {'checked in the background' if watched else 'read per call'}"
        print(
            f"{name:<40} sequential {alone * 1e6:8.2f} µs   32 concurrent {together * 1e6:8.2f} µs"
        )
    finally:
        if checks is not None:
            checks.cancel()
            await asyncio.gather(checks, return_exceptions=True)
        await engine.dispose()


async def main(postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        sqlite = f"sqlite:///{Path(directory) / 'bench.db'}"
        await upgrade(sqlite)
        targets = [("sqlite", sqlite)] + ([("postgres", postgres)] if postgres else [])
        for backend, url in targets:
            for watched in (False, True):
                await measure(url, backend, watched)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a migrated PostgreSQL database URL")
    uvloop.run(main(parser.parse_args().postgres))
