"""The command: arguments, the run from seeding to dropping the database, the report and the
results file."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from api.container.database import default_catalog
from bench.databases import create_database, database_url, drop_database
from bench.overview.checking import Check, check_clients, http_matches
from bench.overview.common import (
    ADMIN_URL,
    RESULTS,
    TARGET_MS,
    UTC_ZONE,
    bench_settings,
    log,
    previous_month,
)
from bench.overview.seeding import (
    Dataset,
    seed,
)
from bench.overview.timing import (
    Timings,
    UseCaseRun,
    WhatIf,
    explain,
    time_http,
    time_use_case,
    what_if,
)
from domain.billing.periods import month_period

_ID_LIST = re.compile(r"'\{[^}]*\}'")


def shorten(line: str) -> str:
    """A plan line with its literal id list (one per client) abbreviated."""
    return _ID_LIST.sub(lambda m: f"'{{{m.group(0).count(',') + 1} ids}}'", line)


def timing_table(rows: Sequence[Timings]) -> str:
    headers = ["path", "runs", "first ms", "p50 ms", "p95 ms", "max ms", f"p95 < {TARGET_MS:g} ms"]
    lines = [
        [
            t.name,
            str(t.runs),
            f"{t.first_ms:.1f}",
            f"{t.p50_ms:.1f}",
            f"{t.p95_ms:.1f}",
            f"{t.max_ms:.1f}",
            "met" if t.met else "NOT MET",
        ]
        for t in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.overview", description="Benchmark overview(period) on PostgreSQL."
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--period", help="the month, YYYY-MM (default: the previous one)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per path")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per path")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data set")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a PostgreSQL URL to create it")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.clients < 3 or args.records < 1 or args.runs < 1 or args.warmup < 0:
        parser.error("need at least 3 clients, 1 record and 1 run")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    label = args.period or previous_month(datetime.now(UTC))
    month_period(label, UTC_ZONE)  # a bad label fails before anything is created
    name = f"bizgraph_bench_{uuid.uuid4().hex[:12]}"
    url = database_url(args.admin_url, name)
    admin_token = secrets.token_urlsafe(32)
    settings = bench_settings(url, admin_token)
    _, prices = default_catalog()
    price_of = {p.model_id: p for p in prices}
    asyncio.run(create_database(args.admin_url, name))
    log(f"database {name} created")
    try:
        dataset = asyncio.run(
            seed(url, name, settings, args.clients, args.records, label, args.seed)
        )
        log(
            f"seeded in {dataset.seconds:.0f} s: {dataset.records:,} usage records "
            f"({dataset.in_period:,} in {label}), table {dataset.table_mb} MiB + indexes "
            f"{dataset.indexes_mb} MiB"
        )
        run = asyncio.run(time_use_case(settings, label, args.warmup, args.runs))
        plan = asyncio.run(explain(url, run.aggregation_sql, run.aggregation_params))
        checks = asyncio.run(check_clients(dataset, run, price_of))
        alternatives = asyncio.run(what_if(url, run, dataset.period, args.runs))
        with tempfile.TemporaryDirectory(prefix="bizgraph-bench-overview-") as tmp:
            http, document = time_http(url, admin_token, label, args.warmup, args.runs, Path(tmp))
        http_problems = http_matches(document, run.overview)
    finally:
        if args.keep:
            log(f"kept database {name}: {url}")
        else:
            asyncio.run(drop_database(args.admin_url, name))
            log(f"database {name} dropped")

    overview = run.overview
    changed = sum(1 for s in dataset.clients if s.change_at is not None)
    print(
        f"Overview of {label}: {len(overview.rows)} clients ({changed} with a mid-month plan "
        f"change), {dataset.records:,} usage records ({dataset.in_period:,} in the month), "
        f"PostgreSQL, {os.cpu_count()} CPUs"
    )
    print(
        f"totals: {overview.requests:,} requests, cost {overview.cost}, revenue "
        f"{overview.revenue}, profit {overview.profit}, margin {overview.margin}\n"
    )
    print(timing_table([run.timings, http]))
    print(
        f"\nuse case, median per overview: {run.statements} SQL statements, "
        f"{run.sql_ms:.1f} ms from cursor execute to result "
        f"({run.aggregation_ms:.1f} ms the usage_records aggregation), "
        f"{run.timings.p50_ms - run.sql_ms:.1f} ms Python around them"
    )
    for kind, lines in plan.items():
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the aggregation, {kind} plan:")
        print("\n".join("  " + shorten(line) for line in lines))
    python_ms = run.timings.p50_ms - run.sql_ms
    print(
        "\nWhat if (the aggregation statement alone, raw asyncpg, p50 over "
        f"{args.runs} runs; + {python_ms:.0f} ms of Python = the use case's estimate):"
    )
    for alt in alternatives:
        print(
            f"  {alt.name}: {alt.rows:,} rows, p50 {alt.p50_ms:.1f} ms, max {alt.max_ms:.1f} ms"
            f" (use case ~{alt.p50_ms + python_ms:.0f} ms)"
        )
    print("\nCorrectness (recomputed with Decimal from the raw rows, compared exactly):")
    for check in checks:
        verdict = "ok" if check.ok else "MISMATCH: " + "; ".join(check.problems)
        print(
            f"  {check.client} ({check.plan}): {check.requests:,} requests, cost "
            f"{check.cost}, charge {check.charge}, revenue {check.revenue}: {verdict}"
        )
    verdict = "match" if not http_problems else "MISMATCH: " + "; ".join(http_problems[:5])
    print(f"  GraphQL over HTTP against the use case (totals and every row): {verdict}")
    met = run.timings.met and http.met
    print(
        f"\nTarget: overview under {TARGET_MS:g} ms (p95, both paths): "
        f"{'met' if met else 'NOT MET'}"
    )
    ok = all(c.ok for c in checks) and not http_problems
    write_results(args, label, dataset, run, http, plan, checks, http_problems, alternatives)
    print(f"results written to {args.output}")
    return 0 if ok else 1


def write_results(
    args: argparse.Namespace,
    label: str,
    dataset: Dataset,
    run: UseCaseRun,
    http: Timings,
    plan: Mapping[str, Sequence[str]],
    checks: Sequence[Check],
    http_problems: Sequence[str],
    alternatives: Sequence[WhatIf],
) -> None:
    document: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "clients": args.clients,
            "records": args.records,
            "period": label,
            "runs": args.runs,
            "warmup": args.warmup,
            "seed": args.seed,
        },
        "dataset": {
            "in_period": dataset.in_period,
            "table_mb": dataset.table_mb,
            "indexes_mb": dataset.indexes_mb,
            "seed_seconds": dataset.seconds,
        },
        "target_ms": TARGET_MS,
        "timings": [asdict(run.timings), asdict(http)],
        "use_case_sql_ms": run.sql_ms,
        "use_case_aggregation_ms": run.aggregation_ms,
        "explain": {kind: list(lines) for kind, lines in plan.items()},
        "what_if": [asdict(a) for a in alternatives],
        "checks": [asdict(c) for c in checks],
        "http_problems": list(http_problems),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
