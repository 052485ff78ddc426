"""ReportUseCases over the fakes: the overview equals the draft invoice, per client and in
total; the series buckets hours into local days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.money import Money
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PlanTimeline
from domain.invoicing.drafts import draft_period
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.reports import Bucket, margin
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.reports import ReportUseCases
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
MONTH_START = datetime(2026, 3, 1, tzinfo=PARIS)


def record(client_id: str, n: int, cost: str, charge: str, at: datetime) -> UsageRecord:
    return UsageRecord(
        id=f"u{client_id}{n}",
        request_id=f"r{client_id}{n}",
        attempt=0,
        client_id=client_id,
        api_key_id="k",
        model_id="demo/chat" if n % 2 else "demo/other",
        provider="demo",
        usage=TokenUsage(input_tokens=10, output_tokens=4, reasoning_tokens=1),
        cost=Money(Decimal(cost)),
        charge=Money(Decimal(charge)),
        price_version_id="p",
        plan_version_id=None,
        started_at=at,
        latency_ms=1,
        status=CallStatus.SUCCEEDED,
        source=UsageSource.REPORTED,
    )


async def setup() -> tuple[ReportUseCases, FakeUnitOfWorkFactory, list[str]]:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    clients = ClientUseCases(factory, clock, PARIS)
    ids = []
    for n, plan in enumerate(
        (
            PercentageMargin(Decimal(30)),
            FixedFee(Money(Decimal("100"))),
            FixedPrice(Money(Decimal("500"))),
        )
    ):
        created, _ = await clients.create(
            NewClient(f"c{n}", plan, plan_effective_from=MONTH_START - timedelta(days=40))
        )
        ids.append(created.id)  # clients are listed by name
        clock.advance(seconds=1)
    async with factory() as uow:
        for i, client_id in enumerate(ids):
            for n in range(3):
                at = MONTH_START + timedelta(hours=23 * n + i)
                await uow.usage.add(record(client_id, n, f"0.00000{n + 1}", f"0.0000{n + 1}", at))
            # Last month: not in March's figures.
            await uow.usage.add(record(client_id, 9, "1", "1", MONTH_START - timedelta(hours=1)))
        await uow.commit()
    return ReportUseCases(factory, clock, PARIS), factory, ids


async def test_overview_rows_equal_the_draft_from_records() -> None:
    reports, factory, ids = await setup()

    overview = await reports.overview("2026-03")

    assert [row.client.id for row in overview.rows] == ids
    for row in overview.rows:
        async with factory() as uow:
            records = await uow.usage.for_client(row.client.id, MONTH_START, NOW)
            timeline = PlanTimeline(await uow.plans.history(row.client.id))
        assert row.draft == draft_period(overview.period, timeline, records, "USD")
    margin_client, fee_client, price_client = overview.rows
    assert margin_client.draft.revenue == Money(Decimal("0.00006"))
    assert fee_client.draft.revenue == Money(Decimal("100.00006"))
    assert price_client.draft.revenue == Money(Decimal("500.00006"))
    assert overview.cost == Money(Decimal("0.000018"))
    assert overview.revenue == Money(Decimal("600.00018"))
    assert overview.profit == Money(Decimal("600.000162"))
    assert overview.requests == 9


async def test_overview_scoped_to_some_clients_and_margin_is_none_without_revenue() -> None:
    reports, _, ids = await setup()
    only = await reports.overview("2026-03", [ids[0]])
    nothing = await reports.overview("2026-02", [ids[0]])

    assert [row.client.id for row in only.rows] == [ids[0]]
    assert only.margin == margin(only.rows[0].draft.profit, only.rows[0].draft.revenue)
    assert only.margin == Decimal("0.9")
    assert nothing.rows[0].draft.requests == 1
    assert margin(Money(Decimal(0)), Money(Decimal(0))) is None


async def test_series_by_hour_and_by_local_day() -> None:
    reports, _, ids = await setup()

    hours = await reports.series(ids[0], Bucket.HOUR, "2026-03")
    days = await reports.series(ids[0], Bucket.DAY, "2026-03")
    by_model = await reports.by_model(ids[0], "2026-03")

    assert [p.requests for p in hours] == [1, 1, 1]
    assert [p.start for p in days] == [
        datetime(2026, 3, 1, tzinfo=PARIS),
        datetime(2026, 3, 2, tzinfo=PARIS),
    ]
    assert [p.requests for p in days] == [2, 1]
    assert days[0].cost == Money(Decimal("0.000003"))
    assert [(m.model_id, m.requests) for m in by_model] == [("demo/chat", 1), ("demo/other", 2)]


async def test_total_series_sums_the_clients_per_local_day() -> None:
    reports, _, ids = await setup()

    together = await reports.total_series(Bucket.DAY, "2026-03")
    two = await reports.total_series(Bucket.DAY, "2026-03", ids[:2])
    each = [await reports.series(client_id, Bucket.DAY, "2026-03") for client_id in ids[:2]]

    assert sum(p.requests for p in together or []) == 9
    assert [p.start for p in two or []] == [
        datetime(2026, 3, 1, tzinfo=PARIS),
        datetime(2026, 3, 2, tzinfo=PARIS),
    ]
    for day in two or []:
        points = [p for series in each for p in series if p.start == day.start]
        assert day.requests == sum(p.requests for p in points)
        assert day.charge.amount == sum(p.charge.amount for p in points)


async def test_total_series_is_none_across_currencies() -> None:
    reports, factory, _ = await setup()
    clients = ClientUseCases(factory, FrozenClock(NOW), PARIS)
    await clients.create(NewClient("euro", PercentageMargin(Decimal(5)), currency="EUR"))

    assert await reports.total_series(Bucket.DAY, "2026-03") is None
