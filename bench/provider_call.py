"""CPU per upstream call through the OpenAI-compatible adapter, against bench/upstream.py's fake.

Starts the fake upstream in its own process, then in this process (uvloop, one call at a time)
times `OpenAICompatibleProvider.chat` (non-streamed) and `open_chat_stream` drained to its end,
next to the floor: the same request on a bare aiohttp session, answer parsed with orjson. The
figure is this process's CPU time (`time.process_time`) per call, so the upstream's work is not
in it; the median of `--rounds` rounds is printed.

    .venv/bin/python -m bench.provider_call --calls 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson
import uvloop

from adapters.providers.openai import OpenAICompatibleProvider
from bench.procs import Children, free_port
from domain.catalog.models import Model
from domain.providers import Timeouts

MODEL = Model(id="openai/gpt-4o-mini", provider="openai", upstream_name="gpt-4o-mini")
BODY = {"model": MODEL.id, "messages": [{"role": "user", "content": "Say hello"}]}
KEY = "sk-bench"

Call = Callable[[], Awaitable[object]]


async def measure(call: Call, calls: int, rounds: int) -> tuple[float, float]:
    """Median CPU µs and wall µs per call over `rounds` rounds of `calls` sequential calls."""
    for _ in range(min(calls, 300)):  # warm-up: pool, caches, lazy imports
        await call()
    cpu, wall = [], []
    for _ in range(rounds):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        for _ in range(calls):
            await call()
        cpu.append((time.process_time() - cpu_start) / calls * 1e6)
        wall.append((time.perf_counter() - wall_start) / calls * 1e6)
    return statistics.median(cpu), statistics.median(wall)


async def run(root: str, calls: int, rounds: int) -> None:
    provider = OpenAICompatibleProvider("openai", f"{root}/v1", KEY, Timeouts())
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=10))
    url = f"{root}/v1/chat/completions"
    payload = {**BODY, "model": MODEL.upstream_name}
    headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}"}

    async def bare() -> object:
        async with session.post(url, data=orjson.dumps(payload), headers=headers) as answer:
            return orjson.loads(await answer.read())

    async def chat() -> object:
        return await provider.chat(MODEL, BODY)

    async def stream() -> object:
        opened = await provider.open_chat_stream(MODEL, {**BODY, "stream": True})
        try:
            return [chunk async for chunk in opened]
        finally:
            await opened.aclose()

    try:
        print(f"{calls} calls x {rounds} rounds, one at a time; median per call")
        print(f"{'call':<32} {'CPU µs':>8} {'wall µs':>8}")
        for name, call in (
            ("bare aiohttp post + orjson", bare),
            ("adapter chat (non-streamed)", chat),
            ("adapter chat stream (drained)", stream),
        ):
            cpu, wall = await measure(call, calls, rounds)
            print(f"{name:<32} {cpu:>8.0f} {wall:>8.0f}")
    finally:
        await provider.aclose()
        await session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bizgraph-provider-call-") as tmp,
        Children(Path(tmp)) as children,
    ):
        port = free_port()
        upstream = children.start(
            "upstream", [sys.executable, "-m", "bench.upstream", "--port", str(port)]
        )
        upstream.wait_for_port(port)
        uvloop.run(run(f"http://127.0.0.1:{port}", args.calls, args.rounds))


if __name__ == "__main__":
    main()
