"""Micro-benchmark of `Lookups.snapshot()`, the first step of every model call's authorization.

Not a test and not part of `make bench`: a timeit-style loop on a throwaway database, run with
`.venv/bin/python -m bench.snapshot_lookups [--postgres URL]`. It prints the mean cost of one
`snapshot()` call, sequential and with 32 concurrent callers.
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
from domain.ports import ConfigRevision
from domain.usecases.lookups import Lookups

ROUNDS = 3


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


async def measure(
    url: str, name: str, revision: Callable[[ConfigRevision], ConfigRevision]
) -> None:
    engine = create_engine(url)
    try:
        lookups = Lookups(
            unit_of_work_factory(engine, read_only=True), revision(SqlConfigRevision(engine))
        )
        await lookups.snapshot()  # warm: connection pool, statement cache
        calls = 2000
        alone = await _best(lambda: _sequential(lookups, calls))
        together = await _best(lambda: _concurrent(lookups, calls * 4))
        print(
            f"{name:<28} sequential {alone * 1e6:9.1f} µs   32 concurrent {together * 1e6:9.1f} µs"
        )
    finally:
        await engine.dispose()


async def main(postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        sqlite = f"sqlite:///{Path(directory) / 'bench.db'}"
        await upgrade(sqlite)
        targets = [("sqlite", sqlite)] + ([("postgres", postgres)] if postgres else [])
        for backend, url in targets:
            await measure(url, f"{backend}, read per call", lambda source: source)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a migrated PostgreSQL database URL")
    uvloop.run(main(parser.parse_args().postgres))  # the loop `bizgraph serve` runs on
