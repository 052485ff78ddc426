"""The gateway benchmark, one command: `.venv/bin/python -m bench.gateway` (`make bench`).

Starts, each in its own process, a fast fake OpenAI upstream (bench/upstream.py), the bare
passthrough proxy (bench/passthrough.py) and the gateway itself (`bizgraph serve`, on a fresh
SQLite database with one client and key; with `--workers 2` as an extra target unless
`--no-workers2`). Then drives closed-loop load (bench/load.py) at each target for JSON and
streamed chat completions at concurrency 1 and 32, prints the table, the gateway against the
bare passthrough and the issue's targets, checks that the gateway metered every request it
answered, and writes bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvloop

from bench.load import MODEL, LoadResult, run_load
from bench.procs import VENV_BIN, Children, free_port, run_cli

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
CHAT_PATH = "/v1/chat/completions"
UPSTREAM_KEY = "sk-bench"
THROUGHPUT_TARGET = 0.8  # gateway req/s at least this share of the bare passthrough's
ADDED_P50_TARGET_MS = 1.0  # gateway p50 at most this much above the bare passthrough's
BASELINE = "passthrough"
GATEWAYS = ("gateway", "gateway-w2")


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    api_key: str


@dataclass(frozen=True, slots=True)
class GatewaySetup:
    env: dict[str, str]
    api_key: str
    database: Path


@dataclass(frozen=True, slots=True)
class Row:
    """One cell of the table: the median over repeats."""

    target: str
    mode: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    repeats: int


@dataclass(frozen=True, slots=True)
class Comparison:
    target: str
    mode: str
    concurrency: int
    throughput_ratio: float
    added_p50_ms: float
    throughput_met: bool
    latency_met: bool


def prepare_gateway(
    workdir: Path, upstream_port: int, base_env: dict[str, str], budget: str | None = None
) -> GatewaySetup:
    """A migrated SQLite database with one client (20% margin) and one API key, via the CLI;
    with `budget`, the client gets a hard budget of that limit (reserve/settle on every call)."""
    database = workdir / "bench.db"
    env = {
        **base_env,
        "BIZGRAPH_DATABASE_URL": f"sqlite:///{database}",
        "BIZGRAPH_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "BIZGRAPH_DATA_DIR": str(workdir / "data"),
        "BIZGRAPH_ENV": "production",
        "BIZGRAPH_DRAIN_AFTER_DISCONNECT": "5",  # quick shutdown at the end
        "OPENAI_API_KEY": UPSTREAM_KEY,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
    }
    bizgraph = str(VENV_BIN / "bizgraph")
    run_cli([bizgraph, "migrate"], env)
    created = run_cli([bizgraph, "clients", "create", "--name", "bench", "--margin", "20"], env)
    client_id = created.split()[1]  # "client <id> 'bench': percentage_margin from ..."
    api_key = run_cli([bizgraph, "keys", "issue", client_id, "--name", "bench"], env).strip()
    if budget is not None:
        run_cli([bizgraph, "budgets", "set", client_id, "--limit", budget], env)
    return GatewaySetup(env, api_key, database)


def usage_records(database: Path) -> int:
    with sqlite3.connect(database) as db:
        (count,) = db.execute("SELECT count(*) FROM usage_records").fetchone()
    return int(count)


def wait_for_usage(database: Path, expected: int, timeout: float = 10.0) -> int:
    """The usage record count once it reaches `expected` or stops moving (streams settle just
    after their last byte)."""
    deadline = time.monotonic() + timeout
    count = usage_records(database)
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        count = usage_records(database)
    return count


def measure(
    targets: Sequence[Target],
    modes: Sequence[str],
    concurrencies: Sequence[int],
    repeat: int,
    duration: float,
    warmup: float,
) -> list[LoadResult]:
    """Every cell, targets interleaved within each round so background noise hits all alike."""
    runs: list[LoadResult] = []
    for round_no in range(1, repeat + 1):
        for mode in modes:
            for concurrency in concurrencies:
                for target in targets:
                    result = uvloop.run(
                        run_load(
                            target.url,
                            api_key=target.api_key,
                            stream=mode == "stream",
                            concurrency=concurrency,
                            duration=duration,
                            warmup=warmup,
                            target=target.name,
                        )
                    )
                    runs.append(result)
                    _progress(round_no, repeat, result)
    return runs


def _progress(round_no: int, repeat: int, r: LoadResult) -> None:
    line = (
        f"[{round_no}/{repeat}] {r.target:<12} {r.mode:<6} c={r.concurrency:<3} "
        f"{r.rps:>8.1f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
    )
    if r.errors:
        line += f"  {r.errors} errors, first: {r.first_error}"
    print(line, file=sys.stderr, flush=True)


def summarize(runs: Sequence[LoadResult]) -> list[Row]:
    cells: dict[tuple[str, str, int], list[LoadResult]] = {}
    for run in runs:
        cells.setdefault((run.target, run.mode, run.concurrency), []).append(run)
    return [
        Row(
            target=target,
            mode=mode,
            concurrency=concurrency,
            rps=round(statistics.median(r.rps for r in group), 1),
            p50_ms=round(statistics.median(r.p50_ms for r in group), 3),
            p99_ms=round(statistics.median(r.p99_ms for r in group), 3),
            errors=sum(r.errors for r in group),
            repeats=len(group),
        )
        for (target, mode, concurrency), group in cells.items()
    ]


def compare(rows: Sequence[Row]) -> list[Comparison]:
    by_cell = {(r.target, r.mode, r.concurrency): r for r in rows}
    comparisons = []
    for row in rows:
        if row.target not in GATEWAYS:
            continue
        base = by_cell.get((BASELINE, row.mode, row.concurrency))
        if base is None or base.rps == 0:
            continue
        ratio = row.rps / base.rps
        added = row.p50_ms - base.p50_ms
        comparisons.append(
            Comparison(
                target=row.target,
                mode=row.mode,
                concurrency=row.concurrency,
                throughput_ratio=round(ratio, 3),
                added_p50_ms=round(added, 3),
                throughput_met=ratio >= THROUGHPUT_TARGET,
                latency_met=added < ADDED_P50_TARGET_MS,
            )
        )
    return comparisons


def _table(headers: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def report(rows: Sequence[Row], comparisons: Sequence[Comparison], repeat: int) -> str:
    note = f" (median of {repeat} runs)" if repeat > 1 else ""
    parts = [
        f"Throughput and latency{note}:",
        _table(
            ["target", "mode", "conc", "req/s", "p50 ms", "p99 ms", "errors"],
            [
                [
                    r.target,
                    r.mode,
                    str(r.concurrency),
                    f"{r.rps:.1f}",
                    f"{r.p50_ms:.2f}",
                    f"{r.p99_ms:.2f}",
                    str(r.errors),
                ]
                for r in rows
            ],
        ),
        "",
        f"Gateway against the bare passthrough (targets: throughput >= {THROUGHPUT_TARGET}x, "
        f"added p50 < {ADDED_P50_TARGET_MS:g} ms):",
        _table(
            ["target", "mode", "conc", "throughput", ">= 0.8x", "added p50 ms", "< 1 ms"],
            [
                [
                    c.target,
                    c.mode,
                    str(c.concurrency),
                    f"{c.throughput_ratio:.2f}x",
                    "met" if c.throughput_met else "NOT MET",
                    f"{c.added_p50_ms:+.2f}",
                    "met" if c.latency_met else "NOT MET",
                ]
                for c in comparisons
            ],
        ),
    ]
    return "\n".join(parts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the gateway against a bare proxy.")
    parser.add_argument("--duration", type=float, default=5.0, help="timed window per cell (s)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up per cell (s)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the table shows medians")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 32], help="concurrency levels"
    )
    parser.add_argument(
        "--modes", nargs="+", choices=["json", "stream"], default=["json", "stream"]
    )
    parser.add_argument(
        "--no-workers2", dest="workers2", action="store_false", help="skip `--workers 2`"
    )
    parser.add_argument("--budget", help="give the client a hard budget of this limit (USD)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    python = sys.executable
    bizgraph = str(VENV_BIN / "bizgraph")
    with (
        tempfile.TemporaryDirectory(prefix="bizgraph-bench-") as tmp,
        Children(Path(tmp)) as children,
    ):
        workdir = Path(tmp)
        upstream_port, passthrough_port = free_ports(2)
        upstream = children.start(
            "upstream", [python, "-m", "bench.upstream", "--port", str(upstream_port)]
        )
        upstream.wait_for_port(upstream_port)
        upstream_root = f"http://127.0.0.1:{upstream_port}"
        passthrough = children.start(
            "passthrough",
            [
                *(python, "-m", "bench.passthrough", "--port", str(passthrough_port)),
                *("--upstream", upstream_root, "--api-key", UPSTREAM_KEY),
            ],
        )
        passthrough.wait_for_port(passthrough_port)
        setup = prepare_gateway(workdir, upstream_port, children.env, args.budget)
        targets = [
            Target("upstream", upstream_root + CHAT_PATH, UPSTREAM_KEY),
            Target(BASELINE, f"http://127.0.0.1:{passthrough_port}{CHAT_PATH}", UPSTREAM_KEY),
        ]
        for name, workers in (("gateway", 1), ("gateway-w2", 2)):
            if workers == 2 and not args.workers2:
                continue
            (port,) = free_ports(1)
            server = children.start(
                name,
                [bizgraph, "serve", "--port", str(port), "--workers", str(workers)],
                env=setup.env,
            )
            server.wait_for_http(f"http://127.0.0.1:{port}/healthz")
            targets.append(Target(name, f"http://127.0.0.1:{port}{CHAT_PATH}", setup.api_key))

        print(
            f"targets up (logs in {workdir}); {len(targets)} targets x {len(args.modes)} modes x "
            f"{len(args.concurrency)} concurrencies x {args.repeat} rounds, "
            f"{args.warmup:g}+{args.duration:g} s each",
            file=sys.stderr,
            flush=True,
        )
        runs = measure(
            targets, args.modes, args.concurrency, args.repeat, args.duration, args.warmup
        )
        sent = sum(r.sent for r in runs if r.target in GATEWAYS)
        failed = sum(r.errors for r in runs if r.target in GATEWAYS)
        metered = wait_for_usage(setup.database, sent)

    rows = summarize(runs)
    comparisons = compare(rows)
    print(report(rows, comparisons, args.repeat))
    metering_ok = metered == sent
    print(
        f"\nMetering: {sent} requests sent to the gateway ({failed} failed), "
        f"{metered} usage records in the database: {'match' if metering_ok else 'MISMATCH'}"
    )
    write_results(args, runs, rows, comparisons, sent, failed, metered)
    print(f"results written to {args.output}")
    return 0 if metering_ok else 1


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def write_results(
    args: argparse.Namespace,
    runs: Sequence[LoadResult],
    rows: Sequence[Row],
    comparisons: Sequence[Comparison],
    sent: int,
    failed: int,
    metered: int,
) -> None:
    document: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "repeat": args.repeat,
            "concurrency": args.concurrency,
            "modes": args.modes,
            "model": MODEL,
        },
        "targets": {
            "throughput_ratio_min": THROUGHPUT_TARGET,
            "added_p50_ms_max": ADDED_P50_TARGET_MS,
        },
        "rows": [asdict(r) for r in rows],
        "comparisons": [asdict(c) for c in comparisons],
        "metering": {"sent": sent, "failed": failed, "usage_records": metered},
        "runs": [asdict(r) for r in runs],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every child process was stopped", file=sys.stderr)
        sys.exit(130)
