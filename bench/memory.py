"""Memory of the gateways: VmRSS of each `bizgraph serve` process and its workers (from /proc)
when measuring starts and ends, and the optional long run (`--rss-calls N`) that checks that
one gateway's RSS stays flat."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import uvloop

from bench.deploy import Served
from bench.figures import table
from bench.load import LoadResult, run_load
from bench.procs import log, tree_rss

RSS_LIMIT_MB = 20.0  # the long run's RSS may move this much from its value after warm-up


@dataclass(frozen=True, slots=True)
class Rss:
    """VmRSS (KiB) of each process of a gateway, its workers included, at two moments."""

    target: str
    serve_pids: tuple[int, ...]  # the `bizgraph serve` processes (the rest are their workers)
    start: dict[int, int]
    end: dict[int, int]


@dataclass(frozen=True, slots=True)
class RssPoint:
    calls: int
    rss_kib: int
    seconds: float
    errors: int


@dataclass(frozen=True, slots=True)
class Soak:
    target: str
    warmup_calls: int
    baseline_kib: int
    points: tuple[RssPoint, ...]
    sent: int
    errors: int

    @property
    def worst_mb(self) -> float:
        return max((abs(p.rss_kib - self.baseline_kib) / 1024 for p in self.points), default=0)

    @property
    def met(self) -> bool:
        return self.worst_mb <= RSS_LIMIT_MB


def rss_of(served: Served) -> dict[int, int]:
    """VmRSS (KiB) of each of the gateway's processes and their descendants (workers)."""
    found: dict[int, int] = {}
    for child in served.processes:
        found.update(tree_rss(child.process.pid))
    return found


def rss_report(snapshots: Sequence[Rss]) -> str:
    if not snapshots:
        return "RSS: no gateway was running"
    lines = []
    for snapshot in snapshots:
        for pid in sorted(snapshot.start.keys() | snapshot.end.keys()):
            start, end = snapshot.start.get(pid), snapshot.end.get(pid)
            change = "-" if start is None or end is None else f"{(end - start) / 1024:+.1f}"
            lines.append(
                [
                    snapshot.target,
                    str(pid),
                    "serve" if pid in snapshot.serve_pids else "child",
                    "-" if start is None else f"{start / 1024:.1f}",
                    "-" if end is None else f"{end / 1024:.1f}",
                    change,
                ]
            )
        total_start, total_end = sum(snapshot.start.values()), sum(snapshot.end.values())
        lines.append(
            [
                snapshot.target,
                "all",
                "",
                f"{total_start / 1024:.1f}",
                f"{total_end / 1024:.1f}",
                f"{(total_end - total_start) / 1024:+.1f}",
            ]
        )
    return "RSS of each gateway process (VmRSS, MB) when measuring started and ended:\n" + table(
        ["target", "pid", "role", "start", "end", "change"], lines
    )


def soak(
    served: Served, calls: int, every: int, warmup: int, concurrency: int
) -> tuple[Soak, list[LoadResult]]:
    """`calls` calls to one gateway after `warmup` more, half JSON, half streamed, in blocks of
    `every`; its RSS after the warm-up and after each block."""
    runs: list[LoadResult] = []

    def block(count: int) -> tuple[int, int]:
        sent = errors = 0
        for stream, share in ((False, count // 2), (True, count - count // 2)):
            if share == 0:
                continue
            result = uvloop.run(
                run_load(
                    served.urls,
                    api_key=served.deployment.tenant.api_key,
                    stream=stream,
                    concurrency=concurrency,
                    requests=share,
                    target=served.name,
                )
            )
            runs.append(result)
            sent, errors = sent + result.sent, errors + result.errors
        return sent, errors

    log(f"RSS run: {warmup} warm-up calls, then {calls} calls to {served.name}, c={concurrency}")
    block(warmup)
    baseline = sum(rss_of(served).values())
    log(f"RSS after warm-up: {baseline / 1024:.1f} MB")
    points: list[RssPoint] = []
    started = time.perf_counter()
    done = errors = 0
    while done < calls:
        sent, failed = block(min(every, calls - done))
        done, errors = done + sent, errors + failed
        rss = sum(rss_of(served).values())
        point = RssPoint(done, rss, round(time.perf_counter() - started, 1), errors)
        points.append(point)
        log(
            f"RSS after {done:>7} calls: {rss / 1024:7.1f} MB "
            f"({(rss - baseline) / 1024:+.1f} MB), {point.seconds:.0f} s, {errors} errors"
        )
    sent_all = sum(r.sent for r in runs)
    return Soak(served.name, warmup, baseline, tuple(points), sent_all, errors), runs


def soak_report(result: Soak) -> str:
    lines = [
        f"RSS over {result.points[-1].calls if result.points else 0} calls to {result.target} "
        f"(after {result.warmup_calls} warm-up calls: {result.baseline_kib / 1024:.1f} MB):"
    ]
    lines += [
        f"  {p.calls:>7} calls  {p.rss_kib / 1024:7.1f} MB  "
        f"{(p.rss_kib - result.baseline_kib) / 1024:+6.1f} MB  {p.seconds:6.0f} s"
        for p in result.points
    ]
    verdict = "met" if result.met else "NOT MET"
    lines.append(
        f"  largest change {result.worst_mb:.1f} MB (goal: within {RSS_LIMIT_MB:g} MB): {verdict}"
        + (f"; {result.errors} errors" if result.errors else "")
    )
    return "\n".join(lines)
