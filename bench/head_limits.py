"""What bounding request heads costs: requests/s of a trivial route served by uvicorn with
plain httptools, with `api.serving.BoundedHeadProtocol` (what `bizgraph serve` runs), and with
h11 (which has its own head limit). Each server is its own process; the client is a closed
loop of keep-alive raw-socket connections in this process. Rounds interleave the targets.
Besides req/s (sensitive to whatever else runs on the machine), the server's CPU time per
request (Linux /proc) shows the protocol's own cost.

    .venv/bin/python -m bench.head_limits --seconds 5 --rounds 3 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time

TARGETS = {
    "httptools": "'httptools'",
    "bounded": "__import__('api.serving', fromlist=['x']).BoundedHeadProtocol",
    "h11": "'h11'",
}
SERVER = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def ok(request): return JSONResponse({{"status": "ok"}})
app = Starlette(routes=[Route("/healthz", ok)])
uvicorn.run(app, port={port}, loop="uvloop", http={http}, log_level="warning", access_log=False)
"""
REQUEST = b"GET /healthz HTTP/1.1\r\nhost: bench\r\nuser-agent: bench\r\naccept: */*\r\n\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def worker(port: int, stop: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    while time.monotonic() < stop:
        writer.write(REQUEST)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        done += 1
    counts.append(done)
    writer.close()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(port: int, pid: int, seconds: float, concurrency: int) -> tuple[float, float]:
    """Requests per second, and the server's CPU microseconds per request."""
    counts: list[int] = []
    await asyncio.gather(*(worker(port, time.monotonic() + 0.5, []) for _ in range(concurrency)))
    start, cpu = time.monotonic(), cpu_seconds(pid)
    await asyncio.gather(*(worker(port, start + seconds, counts) for _ in range(concurrency)))
    elapsed, used = time.monotonic() - start, cpu_seconds(pid) - cpu
    return sum(counts) / elapsed, 1e6 * used / sum(counts)


def measure(name: str, seconds: float, concurrency: int) -> tuple[float, float]:
    port = free_port()
    code = SERVER.format(port=port, http=TARGETS[name])
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        return asyncio.run(load(port, server.pid, seconds, concurrency))
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in TARGETS}
    for _ in range(args.rounds):
        for name in TARGETS:
            results[name].append(measure(name, args.seconds, args.concurrency))
    for name, runs in results.items():
        rates, cpus = [r for r, _ in runs], [c for _, c in runs]
        print(
            f"{name:10s} {statistics.median(rates):7.0f} req/s"
            f"  {statistics.median(cpus):6.1f} server CPU us/request"
            f"  (req/s {', '.join(f'{r:.0f}' for r in rates)};"
            f" us {', '.join(f'{c:.1f}' for c in cpus)})"
        )


if __name__ == "__main__":
    main()
