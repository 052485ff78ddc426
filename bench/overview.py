"""The overview (dashboards) benchmark: `.venv/bin/python -m bench.overview`.

Target (issue): `overview` for 200 clients over a month with 1,000,000 usage records answers in
under 200 ms on PostgreSQL on this machine.

1. Creates a throwaway PostgreSQL database `bizgraph_bench_<hex>`, migrates it, seeds the default
   catalog, creates the clients through the use cases (the three plans in turn, every fifth
   client changing plan mid-month), one API key each, then COPYs the usage records straight
   into `usage_records` (sorted by `started_at`, as the gateway appends them; about 2 % fall
   just outside the month). Every record's cost is `PriceVersion.cost` of its tokens and its
   charge the charge of the client's plan in force at `started_at`, computed with the domain
   over a pool of token profiles per model. `VACUUM (ANALYZE)` afterwards. The overview reads
   only `usage_records` (plus clients and plan versions), so no ledger rows are written.
2. Times `ReportUseCases.overview` directly (what the GraphQL resolver calls) and the GraphQL
   `overview(period)` query over HTTP against `bizgraph serve` in its own process; warm-up,
   then p50/p95/max, met / NOT MET against the target. Prints `EXPLAIN (ANALYZE, BUFFERS)` of
   the aggregation statement exactly as the repository sends it.
3. Checks three clients exactly: their rows recomputed with Decimal (cost from the tokens and
   the price, charge from the plan in force) against the overview's row, and the HTTP answer
   against the use case's.
4. Drops the database at the end (unless `--keep`), on errors and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
from sqlalchemy import event

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.repositories.usage_totals import rebuild_usage_daily
from api.container import Container, close_container, default_catalog, make_container
from api.settings import Settings
from bench.databases import asyncpg_dsn, create_database, database_url, drop_database
from bench.procs import VENV_BIN, Children, free_port
from domain.catalog import Model, ModelKind, PriceVersion
from domain.clients import Client
from domain.money import Money, exact_sum
from domain.periods import Period, month_period, period_containing
from domain.pricing import (
    FixedFee,
    FixedPrice,
    PercentageMargin,
    PlanTimeline,
    PlanVersion,
    PricingPlan,
)
from domain.reports import Overview
from domain.tokens import TokenUsage
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey

RESULTS = Path(__file__).resolve().parent / "results" / "overview.json"
ADMIN_URL = os.environ.get(
    "BIZGRAPH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TARGET_MS = 200.0
_ID_LIST = re.compile(r"'\{[^}]*\}'")
UTC_ZONE = ZoneInfo("UTC")
PROFILES_PER_MODEL = 256
BATCH = 50_000
OUTSIDE_SHARE = 0.02  # records just before or after the month (must not be counted)
FAILED_SHARE = 0.015  # failed attempts: no tokens, zero cost and charge
ESTIMATED_SHARE = 0.005
PLAN_CHANGE_EVERY = 5  # every fifth client changes plan mid-month
MARGINS = (Decimal(10), Decimal(20), Decimal(25), Decimal(30), Decimal("35.5"), Decimal(50))
COLUMNS = (
    "id",
    "request_id",
    "attempt",
    "client_id",
    "api_key_id",
    "model_id",
    "provider",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost",
    "cost_currency",
    "charge",
    "charge_currency",
    "price_version_id",
    "plan_version_id",
    "started_at",
    "latency_ms",
    "status",
    "source",
)
QUERY = """
query Overview($period: String) {
  overview(period: $period) {
    period requests currency margin
    cost { amount currency } revenue { amount currency } profit { amount currency }
    rows {
      client { id name }
      requests margin
      cost { amount currency } revenue { amount currency } profit { amount currency }
    }
  }
}
"""


# -- the data set -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """A token profile of one model and its exact cost (PriceVersion.cost)."""

    usage: TokenUsage
    cost: Decimal


@dataclass(slots=True)
class SeededClient:
    client: Client
    key_id: str
    versions: list[PlanVersion]
    change_at: datetime | None  # the mid-month plan change, if any

    def version_at(self, instant: datetime) -> PlanVersion:
        if self.change_at is not None and instant >= self.change_at:
            return self.versions[1]
        return self.versions[0]


@dataclass(frozen=True, slots=True)
class Dataset:
    database: str
    url: str
    period: Period
    clients: list[SeededClient]
    records: int
    in_period: int
    table_mb: float
    indexes_mb: float
    seconds: float


@dataclass(frozen=True, slots=True)
class Timings:
    name: str
    runs: int
    first_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float
    met: bool

    @classmethod
    def of(cls, name: str, first_ms: float, samples: Sequence[float]) -> Timings:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        p50 = statistics.median(ordered)
        return cls(
            name=name,
            runs=len(ordered),
            first_ms=round(first_ms, 2),
            p50_ms=round(p50, 2),
            p95_ms=round(p95, 2),
            max_ms=round(ordered[-1], 2),
            mean_ms=round(statistics.fmean(ordered), 2),
            met=p95 < TARGET_MS,
        )


@dataclass(slots=True)
class Check:
    client: str
    plan: str
    requests: int
    cost: str
    charge: str
    revenue: str
    ok: bool
    problems: list[str] = field(default_factory=list)


def bench_settings(url: str, admin_token: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key=secrets.token_urlsafe(36),
        admin_token=admin_token,
        timezone=UTC_ZONE,
    )


def previous_month(now: datetime) -> str:
    return period_containing(now, UTC_ZONE).previous().label


def plan_for(index: int, changed: bool) -> PricingPlan:
    """The three plans in turn (a changed client moves to the next one)."""
    kind = (index + (1 if changed else 0)) % 3
    if kind == 0:
        return PercentageMargin(MARGINS[index % len(MARGINS)])
    if kind == 1:
        return FixedFee(Money(Decimal(50 + 25 * (index % 19))))
    return FixedPrice(Money(Decimal(200 + 100 * (index % 17))))


def plan_label(plan: PricingPlan) -> str:
    match plan:
        case PercentageMargin(percent=percent):
            return f"margin {percent}%"
        case FixedFee(monthly_fee=fee):
            return f"cost + {fee.amount}/month"
        case FixedPrice(monthly_price=price):
            return f"fixed {price.amount}/month"


def charge_key(plan: PricingPlan) -> str:
    match plan:
        case PercentageMargin(percent=percent):
            return f"margin:{percent}"
        case _:
            return plan.kind.value


def token_profiles(model: Model, price: PriceVersion, rng: random.Random) -> list[Profile]:
    """Plausible token counts for the model's kind and price classes, priced by the domain."""
    reasoning = price.reasoning is not None or model.id.split("/")[1].startswith(("gpt-5", "o"))
    cache_write = price.cache_write is not None
    profiles = []
    for _ in range(PROFILES_PER_MODEL):
        if model.kind is ModelKind.EMBEDDING:
            usage = TokenUsage(input_tokens=int(rng.lognormvariate(5.5, 1.2)) + 1)
        else:
            prompt = min(int(rng.lognormvariate(7.0, 1.1)) + 20, 200_000)
            cached = int(prompt * rng.uniform(0.2, 0.9)) if rng.random() < 0.35 else 0
            written = 0
            if cache_write and rng.random() < 0.15:
                written = int((prompt - cached) * rng.uniform(0.1, 0.8))
            output = min(int(rng.lognormvariate(5.5, 1.0)) + 1, 32_000)
            thought = int(output * rng.uniform(0.1, 0.7)) if reasoning else 0
            usage = TokenUsage(
                input_tokens=prompt,
                output_tokens=output,
                cached_input_tokens=cached,
                cache_write_tokens=written,
                reasoning_tokens=thought,
            )
        profiles.append(Profile(usage, price.cost(usage).amount))
    return profiles


async def seed_clients(
    container: Container, period: Period, count: int, rng: random.Random
) -> list[SeededClient]:
    since = period.start - timedelta(days=60)
    seeded = []
    for index in range(count):
        first = plan_for(index, changed=False)
        client, version = await container.clients().create(
            NewClient(name=f"Client {index:03d}", plan=first, plan_effective_from=since)
        )
        versions = [version]
        change_at = None
        if index % PLAN_CHANGE_EVERY == 0:
            fraction = rng.uniform(0.3, 0.7)
            change_at = period.start + (period.end - period.start) * fraction
            change_at = change_at.replace(microsecond=0)
            second = plan_for(index, changed=True)
            versions.append(await container.clients().set_plan(client.id, second, change_at))
        issued = await container.keys().issue(NewKey(client.id, name="bench"))
        seeded.append(SeededClient(client, issued.key.id, versions, change_at))
    return seeded


def usage_rows(
    clients: Sequence[SeededClient],
    models: Sequence[Model],
    prices: Mapping[str, PriceVersion],
    period: Period,
    count: int,
    rng: random.Random,
) -> Iterator[tuple[Any, ...]]:
    """`count` usage records in started_at order (as the gateway appends them)."""
    profiles = {m.id: token_profiles(m, prices[m.id], rng) for m in models}
    weights = [3 if m.kind is ModelKind.EMBEDDING else 10 for m in models]
    weights = [
        w * (4 if "mini" in m.id or "haiku" in m.id else 1)
        for w, m in zip(weights, models, strict=True)
    ]
    # Skewed like an agency's book: a few big clients, a long tail.
    order = list(range(len(clients)))
    rng.shuffle(order)
    client_weights = [1 / (order[i] + 1) ** 0.8 for i in range(len(clients))]
    picked_clients = rng.choices(range(len(clients)), client_weights, k=count)
    picked_models = rng.choices(range(len(models)), weights, k=count)
    span = (period.end - period.start).total_seconds()
    offsets = []
    for _ in range(count):
        roll = rng.random()
        if roll < OUTSIDE_SHARE / 2:
            offsets.append(-rng.uniform(1, 5 * 86_400))
        elif roll < OUTSIDE_SHARE:
            offsets.append(span + rng.uniform(0, 5 * 86_400))
        else:
            offsets.append(rng.uniform(0, span))
    offsets.sort()
    charges: dict[tuple[str, str, int], Decimal] = {}
    zero = Decimal(0)
    failed = TokenUsage()
    for n in range(count):
        seeded = clients[picked_clients[n]]
        model = models[picked_models[n]]
        price = prices[model.id]
        started = period.start + timedelta(seconds=offsets[n])
        version = seeded.version_at(started)
        roll = rng.random()
        if roll < FAILED_SHARE:
            usage, cost, charge, status = failed, zero, zero, "failed"
        else:
            slot = rng.randrange(PROFILES_PER_MODEL)
            profile = profiles[model.id][slot]
            key = (charge_key(version.plan), model.id, slot)
            cached = charges.get(key)
            if cached is None:
                cached = version.plan.charge(Money(profile.cost, price.currency)).amount
                charges[key] = cached
            charge = cached
            usage, cost, status = profile.usage, profile.cost, "succeeded"
        source = (
            "estimated" if FAILED_SHARE <= roll < FAILED_SHARE + ESTIMATED_SHARE else "reported"
        )
        yield (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            1,
            seeded.client.id,
            seeded.key_id,
            model.id,
            model.provider,
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens,
            usage.cache_write_tokens,
            usage.reasoning_tokens,
            cost,
            price.currency,
            charge,
            seeded.client.currency,
            price.id,
            version.id,
            started,
            rng.randint(150, 20_000),
            status,
            source,
        )


def batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def seed(
    url: str, name: str, settings: Settings, clients: int, records: int, label: str, seed_: int
) -> Dataset:
    started = time.perf_counter()
    rng = random.Random(seed_)
    period = month_period(label, UTC_ZONE)
    await upgrade(url)
    container = make_container(settings)
    try:
        models, prices = default_catalog()
        await container.catalog().seed(models, prices)
        price_of = {p.model_id: p for p in prices}
        if any(p.effective_from > period.start - timedelta(days=5) for p in prices):
            raise SystemExit(f"the default catalog has no prices for all of {label}")
        used = [m for m in models if m.provider != "demo"]
        seeded = await seed_clients(container, period, clients, rng)
    finally:
        await close_container(container)
    log(f"{clients} clients, plans and keys created; generating {records:,} usage records")
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        copied = 0
        rows = usage_rows(seeded, used, price_of, period, records, rng)
        for batch in batches(rows, BATCH):
            await connection.copy_records_to_table("usage_records", records=batch, columns=COLUMNS)
            copied += len(batch)
            if copied % (BATCH * 4) == 0 or copied == records:
                log(f"  {copied:,} records copied ({time.perf_counter() - started:.0f} s)")
        await rebuild_rollup(url)  # COPY bypassed the repository that keeps it
        await connection.execute("VACUUM (ANALYZE) usage_records")
        await connection.execute("ANALYZE")
        in_period = await connection.fetchval(
            "SELECT count(*) FROM usage_records WHERE started_at >= $1 AND started_at < $2",
            period.start,
            period.end,
        )
        table, indexes = await connection.fetchrow(
            "SELECT pg_table_size('usage_records'), pg_indexes_size('usage_records')"
        )
    finally:
        await connection.close()
    return Dataset(
        database=name,
        url=url,
        period=period,
        clients=seeded,
        records=records,
        in_period=int(in_period),
        table_mb=round(table / 2**20, 1),
        indexes_mb=round(indexes / 2**20, 1),
        seconds=round(time.perf_counter() - started, 1),
    )


# -- measuring ----------------------------------------------------------------------------------


@dataclass(slots=True)
class StatementLog:
    """The statements the engine runs, with their cursor time (execute to result)."""

    capture: bool = False
    statements: list[tuple[str, Any, float]] = field(default_factory=list)
    _started: float = 0.0

    def install(self, container: Container) -> None:
        engine = container.engine().sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(*args: Any) -> None:
            self._started = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            if self.capture:
                elapsed = (time.perf_counter() - self._started) * 1000
                self.statements.append((statement, parameters, elapsed))


@dataclass(frozen=True, slots=True)
class UseCaseRun:
    timings: Timings
    sql_ms: float  # median per overview, all statements
    aggregation_ms: float  # median per overview, the usage_records statement
    statements: int
    aggregation_sql: str
    aggregation_params: tuple[Any, ...]
    overview: Overview
    histories: Mapping[str, Sequence[PlanVersion]]


async def time_use_case(settings: Settings, label: str, warmup: int, runs: int) -> UseCaseRun:
    container = make_container(settings)
    statements = StatementLog()
    statements.install(container)
    try:
        reports = container.reports()
        start = time.perf_counter()
        overview = await reports.overview(label)
        first_ms = (time.perf_counter() - start) * 1000
        for _ in range(warmup):
            await reports.overview(label)
        samples: list[float] = []
        sql: list[float] = []
        aggregation: list[float] = []
        counts: list[int] = []
        for _ in range(runs):
            statements.statements.clear()
            statements.capture = True
            start = time.perf_counter()
            overview = await reports.overview(label)
            samples.append((time.perf_counter() - start) * 1000)
            statements.capture = False
            sql.append(sum(ms for _, _, ms in statements.statements))
            aggregation.append(
                sum(ms for text, _, ms in statements.statements if "usage_records" in text)
            )
            counts.append(len(statements.statements))
        text, params, _ = next(s for s in statements.statements if "usage_records" in s[0])
        ids = [row.client.id for row in overview.rows]
        histories = await container.clients().plan_histories(ids)
    finally:
        await close_container(container)
    return UseCaseRun(
        timings=Timings.of("use case (ReportUseCases.overview)", first_ms, samples),
        sql_ms=round(statistics.median(sql), 2),
        aggregation_ms=round(statistics.median(aggregation), 2),
        statements=max(counts),
        aggregation_sql=text,
        aggregation_params=tuple(params),
        overview=overview,
        histories=histories,
    )


def sql_literal(value: Any) -> str:
    """A parameter as an SQL literal (EXECUTE takes no bind parameters)."""
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"no literal for {type(value).__name__}")


async def rebuild_rollup(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await rebuild_usage_daily(conn)
    finally:
        await engine.dispose()


async def explain(url: str, statement: str, params: Sequence[Any]) -> dict[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement with its parameters: the custom plan a
    prepared statement gets for its first five runs, and the generic plan PostgreSQL may then
    switch to (what the app's cached asyncpg statement ends up running)."""
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    options = "EXPLAIN (ANALYZE, BUFFERS) "
    literals = ", ".join(sql_literal(value) for value in params)
    try:
        custom = await connection.fetch(options + statement, *params)
        await connection.execute(f"PREPARE bench_overview AS {statement}")
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        generic = await connection.fetch(f"{options}EXECUTE bench_overview({literals})")
    finally:
        await connection.close()
    return {"custom": [str(r[0]) for r in custom], "generic": [str(r[0]) for r in generic]}


ROLLUP_SUMS = (
    "count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,"
    " sum(cached_input_tokens) AS cached_input_tokens,"
    " sum(cache_write_tokens) AS cache_write_tokens, sum(reasoning_tokens) AS reasoning_tokens,"
    " sum(cost) AS cost, sum(charge) AS charge"
)
ROLLUP_TOTALS = (
    "SELECT client_id, cost_currency, charge_currency, sum(requests), sum(input_tokens),"
    " sum(output_tokens), sum(cached_input_tokens), sum(cache_write_tokens),"
    " sum(reasoning_tokens), sum(cost), sum(charge) FROM {table}"
    " WHERE {column} >= $1 AND {column} < $2"
    " GROUP BY client_id, cost_currency, charge_currency"
    " ORDER BY client_id, cost_currency, charge_currency"
)


@dataclass(frozen=True, slots=True)
class WhatIf:
    name: str
    rows: int  # rows the statement aggregates
    p50_ms: float
    max_ms: float


async def what_if(url: str, run: UseCaseRun, period: Period, runs: int) -> list[WhatIf]:
    """The aggregation under other conditions, on the same data (nothing in src/ changes):
    with custom and generic plans forced, and over hourly and daily rollups of usage_records
    built here for the measurement and dropped afterwards."""
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)

    async def timed(sql: str, *params: Any) -> tuple[float, float]:
        await connection.fetch(sql, *params)  # warm-up
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            await connection.fetch(sql, *params)
            samples.append((time.perf_counter() - start) * 1000)
        return round(statistics.median(samples), 1), round(max(samples), 1)

    results = []
    try:
        in_period = int(
            await connection.fetchval(
                "SELECT count(*) FROM usage_records WHERE started_at >= $1 AND started_at < $2",
                period.start,
                period.end,
            )
        )
        statement, params = run.aggregation_sql, run.aggregation_params
        for mode in ("force_custom_plan", "force_generic_plan"):
            await connection.execute(f"SET plan_cache_mode = {mode}")
            p50, worst = await timed(statement, *params)
            name = f"usage_records aggregation, plan_cache_mode = {mode}"
            results.append(WhatIf(name, in_period, p50, worst))
        await connection.execute("RESET plan_cache_mode")
        await connection.execute(
            "CREATE TABLE bench_usage_hourly AS SELECT client_id, cost_currency,"
            " charge_currency, date_trunc('hour', started_at) AS hour, "
            + ROLLUP_SUMS
            + " FROM usage_records GROUP BY 1, 2, 3, 4"
        )
        await connection.execute(
            "CREATE TABLE bench_usage_daily AS SELECT client_id, cost_currency,"
            " charge_currency, date_trunc('day', hour) AS day, sum(requests) AS requests,"
            " sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,"
            " sum(cached_input_tokens) AS cached_input_tokens,"
            " sum(cache_write_tokens) AS cache_write_tokens,"
            " sum(reasoning_tokens) AS reasoning_tokens, sum(cost) AS cost,"
            " sum(charge) AS charge FROM bench_usage_hourly GROUP BY 1, 2, 3, 4"
        )
        for table, column, label in (
            ("bench_usage_hourly", "hour", "hourly rollup (client, currencies, UTC hour)"),
            ("bench_usage_daily", "day", "daily rollup (client, currencies, UTC day)"),
        ):
            await connection.execute(
                f"ALTER TABLE {table} ADD PRIMARY KEY"
                f" (client_id, cost_currency, charge_currency, {column})"
            )
            await connection.execute(f"ANALYZE {table}")
            rows = int(
                await connection.fetchval(
                    f"SELECT count(*) FROM {table} WHERE {column} >= $1 AND {column} < $2",
                    period.start,
                    period.end,
                )
            )
            sql = ROLLUP_TOTALS.format(table=table, column=column)
            p50, worst = await timed(sql, period.start, period.end)
            results.append(WhatIf(label, rows, p50, worst))
    finally:
        # Plain tables (temporary ones get no parallel scans), dropped again.
        await connection.execute("DROP TABLE IF EXISTS bench_usage_hourly, bench_usage_daily")
        await connection.close()
    return results


def time_http(
    url: str, admin_token: str, label: str, warmup: int, runs: int, workdir: Path
) -> tuple[Timings, dict[str, Any]]:
    """The GraphQL query over HTTP against `bizgraph serve` (uvloop + httptools, 1 worker)."""
    env = {
        "BIZGRAPH_DATABASE_URL": url,
        "BIZGRAPH_SECRET_KEY": secrets.token_urlsafe(36),
        "BIZGRAPH_ADMIN_TOKEN": admin_token,
        "BIZGRAPH_ENV": "production",
        "BIZGRAPH_TIMEZONE": "UTC",
        "BIZGRAPH_DATA_DIR": str(workdir / "data"),
        "BIZGRAPH_DRAIN_AFTER_DISCONNECT": "5",
    }
    port = free_port()
    with Children(workdir) as children:
        server = children.start(
            "server", [str(VENV_BIN / "bizgraph"), "serve", "--port", str(port)], env=env
        )
        server.wait_for_http(f"http://127.0.0.1:{port}/healthz")
        body = orjson.dumps({"query": QUERY, "variables": {"period": label}})
        headers = {"authorization": f"Bearer {admin_token}", "content-type": "application/json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:

            def once() -> tuple[float, dict[str, Any]]:
                start = time.perf_counter()
                answer = client.post("/graphql", content=body, headers=headers)
                elapsed = (time.perf_counter() - start) * 1000
                document: dict[str, Any] = orjson.loads(answer.content)
                if answer.status_code != 200 or document.get("errors"):
                    raise RuntimeError(f"GraphQL answered {answer.status_code}: {document}")
                return elapsed, document

            first_ms, document = once()
            for _ in range(warmup):
                once()
            samples = []
            for _ in range(runs):
                elapsed, document = once()
                samples.append(elapsed)
    return Timings.of("GraphQL over HTTP (bizgraph serve)", first_ms, samples), document


# -- correctness --------------------------------------------------------------------------------


async def check_clients(
    dataset: Dataset,
    run: UseCaseRun,
    prices: Mapping[str, PriceVersion],
) -> list[Check]:
    """Three clients recomputed from their raw rows with Decimal, compared exactly."""
    by_id = {row.client.id: row for row in run.overview.rows}
    period = dataset.period
    biggest = max(run.overview.rows, key=lambda r: r.draft.requests).client.id
    changed = next(s.client.id for s in dataset.clients if s.change_at is not None)
    fixed_price = next(
        s.client.id
        for s in dataset.clients
        if isinstance(s.versions[-1].plan, FixedPrice) and s.client.id not in (biggest, changed)
    )
    checks = []
    connection = await asyncpg.connect(asyncpg_dsn(dataset.url), timeout=10)
    try:
        for client_id in dict.fromkeys((biggest, changed, fixed_price)):
            rows = await connection.fetch(
                "SELECT model_id, input_tokens, output_tokens, cached_input_tokens,"
                " cache_write_tokens, reasoning_tokens, cost::text AS cost,"
                " charge::text AS charge, started_at FROM usage_records WHERE client_id = $1",
                client_id,
            )
            timeline = PlanTimeline(run.histories.get(client_id, ()))
            mine = [r for r in rows if period.contains(r["started_at"])]
            stored_cost = exact_sum(*(Decimal(r["cost"]) for r in mine))
            stored_charge = exact_sum(*(Decimal(r["charge"]) for r in mine))
            costs, charges = [], []
            tokens = TokenUsage()
            for r in mine:
                usage = TokenUsage(
                    input_tokens=r["input_tokens"],
                    output_tokens=r["output_tokens"],
                    cached_input_tokens=r["cached_input_tokens"],
                    cache_write_tokens=r["cache_write_tokens"],
                    reasoning_tokens=r["reasoning_tokens"],
                )
                tokens = tokens + usage
                priced = prices[r["model_id"]].cost(usage)
                version = timeline.in_force_at(r["started_at"])
                assert version is not None
                costs.append(priced.amount)
                charges.append(version.plan.charge(priced).amount)
            cost = exact_sum(*costs)
            charge = exact_sum(*charges)
            fixed = exact_sum(*(f.amount.amount for f in timeline.fixed_charges(period)))
            draft = by_id[client_id].draft
            problems = []
            expected = {
                "requests": (len(mine), draft.requests),
                "tokens": (tokens, draft.tokens),
                "cost (stored rows)": (stored_cost, draft.usage_cost.amount),
                "cost (recomputed)": (cost, draft.usage_cost.amount),
                "charge (stored rows)": (stored_charge, draft.usage_charge.amount),
                "charge (recomputed)": (charge, draft.usage_charge.amount),
                "revenue": (exact_sum(charge, fixed), draft.revenue.amount),
            }
            for what, (mine_, theirs) in expected.items():
                if mine_ != theirs:
                    problems.append(f"{what}: recomputed {mine_}, overview {theirs}")
            plans = " -> ".join(plan_label(v.plan) for v in timeline.versions)
            checks.append(
                Check(
                    client=by_id[client_id].client.name,
                    plan=plans,
                    requests=len(mine),
                    cost=str(cost),
                    charge=str(charge),
                    revenue=str(draft.revenue.amount),
                    ok=not problems,
                    problems=problems,
                )
            )
    finally:
        await connection.close()
    return checks


def http_matches(document: dict[str, Any], overview: Overview) -> list[str]:
    """The HTTP answer against the use case's figures, totals and every row."""
    data = document["data"]["overview"]
    problems = []

    def same(what: str, money: dict[str, Any] | None, expected: Money | None) -> None:
        got = None if money is None else Decimal(money["amount"])
        want = None if expected is None else expected.amount
        if got != want:
            problems.append(f"{what}: HTTP {got}, use case {want}")

    if data["requests"] != overview.requests:
        problems.append(f"requests: HTTP {data['requests']}, use case {overview.requests}")
    same("cost", data["cost"], overview.cost)
    same("revenue", data["revenue"], overview.revenue)
    same("profit", data["profit"], overview.profit)
    rows = {row["client"]["id"]: row for row in data["rows"]}
    if len(rows) != len(overview.rows):
        problems.append(f"rows: HTTP {len(rows)}, use case {len(overview.rows)}")
    for row in overview.rows:
        theirs = rows.get(row.client.id)
        if theirs is None:
            problems.append(f"row {row.client.name} missing over HTTP")
            continue
        same(f"{row.client.name} cost", theirs["cost"], row.draft.usage_cost)
        same(f"{row.client.name} revenue", theirs["revenue"], row.draft.revenue)
    return problems


# -- the command --------------------------------------------------------------------------------


def shorten(line: str) -> str:
    """A plan line with its literal id list (one per client) abbreviated."""
    return _ID_LIST.sub(lambda m: f"'{{{m.group(0).count(',') + 1} ids}}'", line)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
    parser = argparse.ArgumentParser(description="Benchmark overview(period) on PostgreSQL.")
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


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the server was stopped and the database dropped", file=sys.stderr)
        sys.exit(130)
