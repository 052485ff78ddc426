"""Reconciliation on SQLite and PostgreSQL: usage records summed per UTC hour, provider and
upstream model exactly; reports replaced per day; the daily job's range and its mark; the
provider's hour fetched for crash-estimated calls; imports; agency alerts raised once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.reconciliation import SqlReconciliationStore
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.reconciliation.csv_imports import gemini_billing_rows, invoice_rows
from domain.alerting.alerts import AlertKind
from domain.billing.money import Money
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageSource
from domain.reconciliation import ProviderFigures, ReportOrigin
from domain.usecases.reconciliation import DriftRule, Reconciliation
from tests.fakes import FrozenClock
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
YESTERDAY = date(2026, 12, 6)


class FakeReports:
    """A provider's reporting API in memory: the rows it would answer, and what was asked."""

    def __init__(self, provider: str, rows: list[ProviderFigures]) -> None:
        self.provider = provider
        self.rows = rows
        self.asked: list[tuple[str, date, date]] = []

    async def daily(self, start: date, end: date) -> list[ProviderFigures]:
        self.asked.append(("daily", start, end))
        return [r for r in self.rows if r.hour is None and start <= r.day < end]

    async def hourly(self, day: date) -> list[ProviderFigures]:
        self.asked.append(("hourly", day, day))
        return [r for r in self.rows if r.hour is not None and r.day == day]

    async def aclose(self) -> None:
        return None


async def seed(
    uow: UowFactory,
    records: list[tuple[datetime, str, UsageSource]],
    failed_at: datetime | None = None,
) -> None:
    """Usage records of gpt-4o-mini; `failed_at`: also an attempt the provider refused (no
    usage, no cost)."""
    client = builders.client(currency="USD")
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.catalog.save_model(
            builders.model("openai/gpt-4o-mini", upstream_name="gpt-4o-mini")
        )
        for at, cost, source in records:
            record = builders.usage(
                client.id,
                key.id,
                started_at=at,
                cost=Money(Decimal(cost), "USD"),
                source=source,
                usage=TokenUsage(input_tokens=100, output_tokens=10),
            )
            assert await tx.usage.add(record)
        if failed_at is not None:
            refused = builders.usage(
                client.id,
                key.id,
                started_at=failed_at,
                cost=Money(Decimal(0), "USD"),
                status=CallStatus.FAILED,
                usage=TokenUsage(),
            )
            assert await tx.usage.add(refused)
        await tx.commit()


def reconciliation(
    engine: AsyncEngine,
    uow: UowFactory,
    sources: list[FakeReports],
    clock: FrozenClock | None = None,
) -> Reconciliation:
    return Reconciliation(
        SqlReconciliationStore(engine),
        uow,
        clock or FrozenClock(NOW),
        {s.provider: s for s in sources},
        DriftRule(percent=Decimal(1), minimum=Decimal("0.01")),
    )


def day_at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_recorded_figures_are_exact_per_hour_and_model(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    tiny = "0.000000000000000001"
    await seed(
        uow,
        [
            (day_at(YESTERDAY, 3), "0.1", UsageSource.REPORTED),
            (day_at(YESTERDAY, 3) + timedelta(minutes=5), tiny, UsageSource.ESTIMATED),
            (day_at(YESTERDAY, 23) + timedelta(minutes=59), "0.2", UsageSource.REPORTED),
            (day_at(YESTERDAY + timedelta(days=1), 0), "9", UsageSource.REPORTED),  # next day
        ],
        failed_at=day_at(YESTERDAY, 3),
    )
    store = SqlReconciliationStore(engine)

    found = await store.recorded(YESTERDAY, YESTERDAY + timedelta(days=1), None)

    by_hour = {r.hour.hour: r for r in found}
    assert sorted(by_hour) == [3, 23]
    assert by_hour[3].model == "gpt-4o-mini"  # the upstream name, not the catalog id
    assert by_hour[3].cost == Decimal("0.100000000000000001")
    # the refused attempt is no request (the provider bills none); the estimated one is
    assert (by_hour[3].requests, by_hour[3].estimated_requests) == (2, 1)
    assert by_hour[3].estimated_cost == Decimal(tiny)
    assert by_hour[23].tokens == TokenUsage(input_tokens=100, output_tokens=10)


async def test_the_daily_job_reconciles_through_yesterday_once(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    await seed(
        uow,
        [
            (day_at(YESTERDAY - timedelta(days=n), 12), "1.00", UsageSource.REPORTED)
            for n in range(7)
        ],
    )
    days = [YESTERDAY - timedelta(days=n) for n in range(7)]
    rows = [
        ProviderFigures(
            day=d,
            provider="openai",
            model="gpt-4o-mini-2024-07-18",
            cost=Decimal("1.00"),
            requests=1,
        )
        for d in days
    ]
    rows[0] = ProviderFigures(
        day=YESTERDAY,
        provider="openai",
        model="gpt-4o-mini-2024-07-18",
        cost=Decimal("1.50"),
        requests=2,
    )
    source = FakeReports("openai", rows)
    clock = FrozenClock(NOW)
    rec = reconciliation(engine, uow, [source], clock)

    run = await rec.daily()
    second = await rec.daily()

    assert run is not None
    assert second is None  # reconciled through yesterday: nothing due until tomorrow
    assert source.asked == [("daily", date(2026, 11, 30), date(2026, 12, 7))]  # 7 days back
    assert await rec.reconciled_through() == {"openai": YESTERDAY}
    assert run.alerts_raised == 1
    [drifting] = [r for r in run.table.rows if r.cost_drift]
    assert (drifting.day, drifting.cost_drift, drifting.relative_drift) == (
        YESTERDAY,
        Decimal("0.50"),
        Decimal("50.00"),
    )
    async with uow() as tx:
        [alert] = await tx.alerts.recent()
    assert alert.kind is AlertKind.RECONCILIATION_DRIFT
    assert alert.client_id is None

    # A day later the job goes back RECHECK_DAYS (reports settle late) and moves the mark on.
    clock.advance(days=1)
    assert await rec.daily() is not None
    assert source.asked[-1] == (
        "daily",
        YESTERDAY - timedelta(days=2),
        YESTERDAY + timedelta(days=2),
    )
    assert await rec.reconciled_through() == {"openai": YESTERDAY + timedelta(days=1)}


async def test_crash_estimated_calls_get_the_providers_hour(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    crash = day_at(YESTERDAY, 4)
    await seed(
        uow,
        [
            (crash, "0.05", UsageSource.ESTIMATED),
            (day_at(YESTERDAY, 9), "0.05", UsageSource.REPORTED),
        ],
    )
    hourly = ProviderFigures(
        day=YESTERDAY,
        provider="openai",
        model="gpt-4o-mini-2024-07-18",
        hour=crash,
        requests=1,
        tokens=TokenUsage(input_tokens=100, output_tokens=7),
    )
    daily = ProviderFigures(
        day=YESTERDAY,
        provider="openai",
        model="gpt-4o-mini-2024-07-18",
        cost=Decimal("0.1"),
        requests=2,
    )
    source = FakeReports("openai", [daily, hourly])
    rec = reconciliation(engine, uow, [source])

    run = await rec.run(YESTERDAY, YESTERDAY + timedelta(days=1))

    assert ("hourly", YESTERDAY, YESTERDAY) in source.asked
    [row] = run.table.rows
    [estimate] = row.estimated
    assert estimate.hour == crash
    assert estimate.reported is not None
    assert estimate.reported.tokens == TokenUsage(input_tokens=100, output_tokens=7)
    assert row.cost_drift == 0  # the hourly row is not counted into the day twice


async def test_an_invoice_import_replaces_the_days_it_covers(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    await seed(uow, [(day_at(YESTERDAY, 12), "2.00", UsageSource.REPORTED)])
    rec = reconciliation(engine, uow, [])
    first = invoice_rows(f"date,model,cost\n{YESTERDAY},gpt-4o-mini,2.40\n", "openai")
    fixed = invoice_rows(
        f"date,model,cost,currency,requests\n{YESTERDAY},gpt-4o-mini-2024-07-18,2.00,usd,1\n",
        "openai",
    )

    drifting = await rec.import_report("openai", first, ReportOrigin.INVOICE_CSV)
    agreed = await rec.import_report("openai", fixed, ReportOrigin.INVOICE_CSV)

    assert drifting.alerts_raised == 1
    assert [r.cost_drift for r in drifting.table.rows] == [Decimal("0.40")]
    assert [(r.cost_drift, r.requests_drift) for r in agreed.table.rows] == [(0, 0)]
    assert await rec.reconciled_through() == {"openai": YESTERDAY}
    with pytest.raises(ValidationError, match="no admin credential"):
        await rec.run(YESTERDAY - timedelta(days=3), YESTERDAY, ["anthropic"])


async def test_a_gemini_billing_export_is_read_per_day_and_model(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    export = (
        "Billing account name,Service description,SKU description,Usage start date,"
        "Usage amount,Usage unit,Cost ($)\n"
        f"Agency,Gemini API,Gemini 2.5 Flash Input tokens,{YESTERDAY}T00:00:00Z,1000,count,0.30\n"
        f"Agency,Gemini API,Gemini 2.5 Flash Output tokens,{YESTERDAY}T00:00:00Z,200,count,0.50\n"
        f"Agency,Gemini API,Gemini 2.5 Flash Lite Input tokens,{YESTERDAY}T00:00:00Z,10,count,0.01\n"
        f"Agency,Cloud Storage,Standard Storage,{YESTERDAY}T00:00:00Z,1,gibibyte month,9.99\n"
    )
    rows = gemini_billing_rows(export, "google")
    rec = reconciliation(engine, uow, [])

    run = await rec.import_report("google", rows, ReportOrigin.BILLING_CSV)

    by_model = {r.model: r for r in run.table.rows}
    assert sorted(by_model) == ["gemini-2.5-flash", "gemini-2.5-flash-lite"]
    flash = by_model["gemini-2.5-flash"]
    assert flash.reported.cost == Decimal("0.80")
    assert flash.reported.tokens == TokenUsage(input_tokens=1000, output_tokens=200)
    assert flash.unrecorded  # nothing went through Bizgraph for Gemini here
    with pytest.raises(ValidationError, match="missing"):
        gemini_billing_rows("a,b\n1,2\n")
    with pytest.raises(ValidationError, match="line 2: cost"):
        invoice_rows("date,model,cost\n2026-12-01,gpt-4o,lots\n", "openai")


async def test_providers_without_any_report_are_left_out(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    await seed(uow, [(day_at(YESTERDAY, 12), "1.00", UsageSource.REPORTED)])  # openai usage
    unconfigured = reconciliation(engine, uow, [])
    configured = reconciliation(engine, uow, [FakeReports("openai", [])])
    span = (YESTERDAY, YESTERDAY + timedelta(days=1))

    assert (await unconfigured.table(*span)).rows == ()
    assert [r.provider for r in (await unconfigured.table(*span, ["openai"])).rows] == ["openai"]
    [row] = (await configured.table(*span)).rows
    assert row.reported.cost is None  # configured, not fetched yet: shown as not reported
