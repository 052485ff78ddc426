"""The gateway benchmark, one command: `.venv/bin/python -m bench.gateway` (`make bench`).

Starts, each in its own process, a fast fake OpenAI upstream (bench/upstream.py), the bare
passthrough proxy (bench/passthrough.py) and the gateway targets (`bizgraph serve`, see
bench/deploy.py): SQLite without and with a hard budget, SQLite with `--workers 2`, PostgreSQL
(a database created for the run and dropped at its end) in one process, and in two processes
sharing it with Redis. Then drives closed-loop load (bench/load.py) at each target for JSON and
streamed chat completions at concurrency 1 and 32, and prints the table, every gateway against
the bare passthrough with the issue's targets (met / NOT MET), each gateway's RSS before and
after, and the metering checks (a usage record per request sent, `bizgraph ledger verify` per
database). Optionally (`--rss-calls N`) a long run checks that the SQLite gateway's RSS stays
flat. Writes bench/results/latest.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvloop

from bench.databases import (
    create_database,
    database_url,
    drop_database,
    flush_redis,
    postgres_problem,
    redis_db,
    redis_problem,
)
from bench.deploy import (
    CHAT_PATH,
    GATEWAY_SPECS,
    GATEWAYS,
    POSTGRES,
    UPSTREAM_KEY,
    Database,
    GatewaySpec,
    deploy,
    serve,
    verify_ledgers,
)
from bench.figures import (
    BASELINE,
    GOALS,
    Check,
    Ratio,
    Row,
    check_goals,
    ratios,
    report,
    summarize,
)
from bench.load import MODEL, LoadResult, run_load
from bench.memory import Rss, Soak, rss_of, rss_report, soak, soak_report
from bench.procs import Children, free_port, log, sigterm_unwinds

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
ALL_TARGETS = ("upstream", BASELINE, *GATEWAY_SPECS)
ADMIN_URL = os.environ.get(
    "BIZGRAPH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BIZGRAPH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
RSS_TARGET = "gateway"  # the long RSS run (--rss-calls) goes to the SQLite gateway


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    urls: tuple[str, ...]
    api_key: str


@dataclass(frozen=True, slots=True)
class Metering:
    target: str
    database: str
    sent: int
    failed: int
    usage_records: int

    @property
    def ok(self) -> bool:
        return self.sent == self.usage_records


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    database: str
    problem: str | None


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
                            target.urls,
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
        f"[{round_no}/{repeat}] {r.target:<14} {r.mode:<6} c={r.concurrency:<3} "
        f"{r.rps:>8.1f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
    )
    if r.ttfb_p50_ms is not None:
        line += f"  TTFB p50 {r.ttfb_p50_ms:6.2f} ms"
    if r.errors:
        line += f"  {r.errors} errors, first: {r.first_error}"
    log(line)


def wait_for_usage(database: Database, client_id: str, expected: int, timeout: float) -> int:
    """The client's usage record count once it reaches `expected` or the timeout passes
    (streams settle just after their last byte)."""
    deadline = time.monotonic() + timeout
    count = database.usage_records(client_id)
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        count = database.usage_records(client_id)
    return count


def metering_report(metering: Sequence[Metering], ledgers: Sequence[LedgerCheck]) -> str:
    lines = ["Metering (requests sent, warm-up included, against usage records of the client):"]
    for m in metering:
        verdict = "match" if m.ok else "MISMATCH"
        lines.append(
            f"  {m.target:<15} {m.sent} sent ({m.failed} failed), {m.usage_records} usage "
            f"records in {m.database}: {verdict}"
        )
    lines.append("`bizgraph ledger verify` after the run:")
    for ledger in ledgers:
        verdict = "passed" if ledger.problem is None else f"FAILED\n{ledger.problem}"
        lines.append(f"  {ledger.database}: {verdict}")
    return "\n".join(lines)


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


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
        "--targets",
        type=_names,
        action="extend",
        help=f"comma-separated, of: {', '.join(ALL_TARGETS)} (default: all; the passthrough "
        "is always measured)",
    )
    parser.add_argument(
        "--no-pg", dest="pg", action="store_false", help="skip gateway-pg and gateway-pg2"
    )
    parser.add_argument(
        "--no-workers2", dest="workers2", action="store_false", help="skip gateway-w2"
    )
    parser.add_argument(
        "--budget", default="100000", help="hard budget of gateway-budget's client (USD)"
    )
    parser.add_argument(
        "--postgres-url", default=ADMIN_URL, help="a maintenance database to create the run's from"
    )
    parser.add_argument(
        "--redis-url", default=REDIS_URL, help="gateway-pg2's Redis database (flushed; not 0)"
    )
    parser.add_argument(
        "--rss-calls",
        type=int,
        default=0,
        help="after the table, send N calls to `gateway` and print its RSS every --rss-every",
    )
    parser.add_argument("--rss-every", type=int, default=10_000)
    parser.add_argument("--rss-warmup", type=int, default=5_000, help="calls before the baseline")
    parser.add_argument("--rss-concurrency", type=int, default=32)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = args.targets or list(ALL_TARGETS)
    unknown = sorted(set(names) - set(ALL_TARGETS))
    if unknown:
        parser.error(f"unknown targets {', '.join(unknown)}; known: {', '.join(ALL_TARGETS)}")
    skipped = set()
    if not args.pg:
        skipped |= {"gateway-pg", "gateway-pg2"}
    if not args.workers2:
        skipped.add("gateway-w2")
    wanted = set(names) | {BASELINE}
    args.targets = [name for name in ALL_TARGETS if name in wanted and name not in skipped]
    if redis_db(args.redis_url) == 0:
        parser.error("--redis-url must name a Redis database other than 0 (it is flushed)")
    if args.rss_every <= 0 or args.rss_calls < 0 or args.rss_warmup < 0:
        parser.error("--rss-every must be positive, --rss-calls and --rss-warmup not negative")
    return args


@contextlib.contextmanager
def run_database(admin_url: str, needed: bool) -> Iterator[tuple[str, str] | None]:
    """A fresh PostgreSQL database (url, name) for the run, dropped at its end, errors, Ctrl-C
    and SIGTERM included (a run killed with SIGKILL leaves `bizgraph_bench_gw_*` behind)."""
    if not needed:
        yield None
        return
    name = f"bizgraph_bench_gw_{uuid.uuid4().hex[:12]}"
    asyncio.run(create_database(admin_url, name))
    log(f"PostgreSQL database {name} created")
    try:
        yield database_url(admin_url, name), name
    finally:
        asyncio.run(drop_database(admin_url, name))
        log(f"PostgreSQL database {name} dropped")


@contextlib.contextmanager
def run_redis(url: str, needed: bool) -> Iterator[str | None]:
    """The run's Redis database, flushed before and after."""
    if not needed:
        yield None
        return
    flush_redis(url)
    try:
        yield url
    finally:
        flush_redis(url)


def unavailable(specs: Sequence[GatewaySpec], args: argparse.Namespace) -> str | None:
    """Why a needed server is missing (with the option that skips what needs it), or None."""
    if any(spec.backend == POSTGRES for spec in specs):
        problem = postgres_problem(args.postgres_url)
        if problem is not None:
            return f"PostgreSQL at {args.postgres_url}: {problem} (skip with --no-pg)"
    if any(spec.redis for spec in specs):
        problem = redis_problem(args.redis_url)
        if problem is not None:
            return f"Redis at {args.redis_url}: {problem} (leave gateway-pg2 out of --targets)"
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    runs: list[LoadResult]  # the table's cells
    soaked: Soak | None
    rss: list[Rss]
    metering: list[Metering]
    ledgers: list[LedgerCheck]


def start_yardsticks(children: Children) -> tuple[Target, Target, int]:
    """The fake upstream and the bare passthrough in front of it; also the upstream's port."""
    python = sys.executable
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
    passthrough_url = f"http://127.0.0.1:{passthrough_port}{CHAT_PATH}"
    return (
        Target("upstream", (upstream_root + CHAT_PATH,), UPSTREAM_KEY),
        Target(BASELINE, (passthrough_url,), UPSTREAM_KEY),
        upstream_port,
    )


def run(
    args: argparse.Namespace,
    specs: Sequence[GatewaySpec],
    soaked: str | None,
    postgres: tuple[str, str] | None,
    redis_url: str | None,
    workdir: Path,
) -> Outcome:
    with Children(workdir) as children:
        upstream, passthrough, upstream_port = start_yardsticks(children)
        started = time.monotonic()
        deployments = deploy(specs, workdir, upstream_port, children.env, args.budget, postgres)
        served = serve(children, deployments, redis_url)
        log(f"gateways prepared and up in {time.monotonic() - started:.0f} s")
        gateways = [Target(s.name, s.urls, s.deployment.tenant.api_key) for s in served]
        targets = [t for t in (upstream, passthrough, *gateways) if t.name in args.targets]
        cells = len(targets) * len(args.modes) * len(args.concurrency) * args.repeat
        log(
            f"targets up (logs in {workdir}): {', '.join(t.name for t in targets)}; {cells} "
            f"cells of {args.warmup:g}+{args.duration:g} s, about "
            f"{cells * (args.warmup + args.duration) / 60:.1f} minutes"
        )
        rss_start = {s.name: rss_of(s) for s in served}
        runs = measure(
            targets, args.modes, args.concurrency, args.repeat, args.duration, args.warmup
        )
        soak_result: Soak | None = None
        soak_runs: list[LoadResult] = []
        if soaked is not None:
            soak_target = next(s for s in served if s.name == soaked)
            soak_result, soak_runs = soak(
                soak_target, args.rss_calls, args.rss_every, args.rss_warmup, args.rss_concurrency
            )
        rss = [
            Rss(s.name, tuple(c.process.pid for c in s.processes), rss_start[s.name], rss_of(s))
            for s in served
        ]
        every_run = [*runs, *soak_runs]
        sent = {s.name: sum(r.sent for r in every_run if r.target == s.name) for s in served}
        for s in served:  # while the gateways are up: streams settle after their last byte
            tenant = s.deployment.tenant
            wait_for_usage(s.deployment.database, tenant.client_id, sent[s.name], 10.0)
        log("stopping the gateways")
        stopping = time.monotonic()
    # The gateways have stopped (their queued writes flushed): count and verify.
    log(f"stopped in {time.monotonic() - stopping:.0f} s; counting usage, verifying ledgers")
    metering = [
        Metering(
            s.name,
            s.deployment.database.label,
            sent[s.name],
            sum(r.errors for r in every_run if r.target == s.name),
            s.deployment.database.usage_records(s.deployment.tenant.client_id),
        )
        for s in served
    ]
    databases = list({s.deployment.database.label: s.deployment.database for s in served}.values())
    problems = verify_ledgers(databases, os.environ)
    ledgers = [LedgerCheck(d.label, p) for d, p in zip(databases, problems, strict=True)]
    return Outcome(runs, soak_result, rss, metering, ledgers)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    soaked = RSS_TARGET if args.rss_calls else None
    specs = [s for s in GATEWAYS if s.name in args.targets or s.name == soaked]
    problem = unavailable(specs, args)
    if problem is not None:
        log(f"cannot run: {problem}")
        return 2
    with (
        sigterm_unwinds(),
        tempfile.TemporaryDirectory(prefix="bizgraph-bench-") as tmp,
        run_database(args.postgres_url, any(s.backend == POSTGRES for s in specs)) as postgres,
        run_redis(args.redis_url, any(s.redis for s in specs)) as redis_url,
    ):
        outcome = run(args, specs, soaked, postgres, redis_url, Path(tmp))

    rows = summarize(outcome.runs)
    found = ratios(rows)
    checks = check_goals(found)
    print(report(rows, found, checks, args.repeat))
    print("\n" + rss_report(outcome.rss))
    if outcome.soaked is not None:
        print("\n" + soak_report(outcome.soaked))
    print("\n" + metering_report(outcome.metering, outcome.ledgers))
    write_results(args, rows, found, checks, outcome)
    print(f"results written to {args.output}")
    correct = all(m.ok for m in outcome.metering)
    correct = correct and all(ledger.problem is None for ledger in outcome.ledgers)
    return 0 if correct else 1


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def write_results(
    args: argparse.Namespace,
    rows: Sequence[Row],
    found: Sequence[Ratio],
    checks: Sequence[Check],
    outcome: Outcome,
) -> None:
    soaked = outcome.soaked
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
            "targets": args.targets,
            "budget": args.budget,
            "model": MODEL,
        },
        "goals": [asdict(g) for g in GOALS],
        "rows": [asdict(r) for r in rows],
        "ratios": [asdict(f) for f in found],
        "checks": [asdict(c) for c in checks],
        "rss_kib": [asdict(r) for r in outcome.rss],
        "rss_run": None
        if soaked is None
        else {**asdict(soaked), "worst_mb": soaked.worst_mb, "met": soaked.met},
        "metering": [{**asdict(m), "ok": m.ok} for m in outcome.metering],
        "ledger_verify": [asdict(ledger) for ledger in outcome.ledgers],
        "runs": [asdict(r) for r in outcome.runs],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(
        orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every child process was stopped", file=sys.stderr)
        sys.exit(130)
