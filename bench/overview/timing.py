"""Timing: the use case and the GraphQL query over HTTP, the SQL they send, EXPLAIN of the
aggregation, and what-if variants of it."""

from __future__ import annotations

import math
import secrets
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
from sqlalchemy import event

from api.container import Container, close_container, make_container
from api.settings import Settings
from bench.databases import asyncpg_dsn
from bench.overview.common import (
    TARGET_MS,
)
from bench.procs import VENV_BIN, Children, free_port
from domain.billing.periods import Period
from domain.billing.plans import (
    PlanVersion,
)
from domain.reports import Overview

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
