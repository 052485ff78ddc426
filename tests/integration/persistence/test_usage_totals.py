"""Usage aggregated by the database: per client, per model, per UTC hour, exact sums."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from adapters.persistence.repositories.usage_totals import rebuild_usage_daily
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.money import EXACT, Money, exact_sum
from domain.billing.periods import month_period
from domain.billing.plans import PercentageMargin, PlanVersion
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageGrouping
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)
# Amounts a double cannot hold: summed through a float they would come back wrong.
TINY = Decimal("0.000000000000000001")
COSTS = ["0.000000000001", "12345678901234567.000000000003", "0.1", "0.2"]


async def seeded(uow: UowFactory) -> tuple[str, str, str]:
    acme, globex = builders.client(), builders.client()
    acme_key, globex_key = builders.key(acme.id), builders.key(globex.id)
    records = []
    for i, cost in enumerate(COSTS):
        records.append(
            builders.usage(
                acme.id,
                acme_key.id,
                model_id="openai/a" if i % 2 == 0 else "openai/b",
                started_at=START + timedelta(hours=i // 2, minutes=5 * i),
                cost=Money(Decimal(cost), "USD"),
                charge=Money(EXACT.add(EXACT.multiply(Decimal(cost), 2), TINY), "USD"),
                usage=TokenUsage(input_tokens=10 + i, output_tokens=5, cached_input_tokens=i),
            )
        )
    records.append(builders.usage(globex.id, globex_key.id, started_at=START))
    # Outside [START, END): ignored.
    records.append(builders.usage(acme.id, acme_key.id, started_at=END))
    records.append(builders.usage(acme.id, acme_key.id, started_at=START - timedelta(seconds=1)))
    async with uow() as tx:
        for row in (acme, globex):
            await tx.clients.add(row)
        await tx.keys.add(acme_key)
        await tx.keys.add(globex_key)
        for record in records:
            assert await tx.usage.add(record)
        await tx.commit()
    return acme.id, globex.id, acme_key.id


def exact(*values: str) -> Decimal:
    """Summed in a 60-digit context: the default 28 digits would round these."""
    return exact_sum(*(Decimal(v) for v in values))


async def test_per_client_totals_are_exact(uow: UowFactory) -> None:
    acme, globex, _ = await seeded(uow)
    async with uow() as tx:
        rows = await tx.usage.totals(START, END, UsageGrouping.CLIENT)
        only_globex = await tx.usage.totals(START, END, UsageGrouping.CLIENT, [globex])
        nobody = await tx.usage.totals(START, END, UsageGrouping.CLIENT, [])

    by_client = {row.client_id: row for row in rows}
    assert set(by_client) == {acme, globex}
    mine = by_client[acme]
    assert mine.requests == 4
    assert mine.tokens == TokenUsage(input_tokens=46, output_tokens=20, cached_input_tokens=6)
    assert mine.cost == Money(exact(*COSTS), "USD")
    expected_charge = EXACT.add(EXACT.multiply(exact(*COSTS), 2), 4 * TINY)
    assert mine.charge == Money(expected_charge, "USD")
    assert str(mine.cost.amount) == "12345678901234567.300000000004"
    assert [row.client_id for row in only_globex] == [globex]
    assert nobody == []


async def test_per_model_and_per_hour_totals(uow: UowFactory) -> None:
    acme, _, _ = await seeded(uow)
    async with uow() as tx:
        models = await tx.usage.totals(START, END, UsageGrouping.MODEL, [acme])
        hours = await tx.usage.totals(START, END, UsageGrouping.HOUR, [acme])

    assert [(m.model_id, m.requests, m.cost.amount) for m in models] == [
        ("openai/a", 2, exact(COSTS[0], COSTS[2])),
        ("openai/b", 2, exact(COSTS[1], COSTS[3])),
    ]
    assert [(h.hour, h.requests, h.cost.amount) for h in hours] == [
        (START, 2, exact(COSTS[0], COSTS[1])),
        (START + timedelta(hours=1), 2, exact(COSTS[2], COSTS[3])),
    ]


async def test_hourly_totals_of_several_clients_together(uow: UowFactory) -> None:
    acme, globex, _ = await seeded(uow)
    async with uow() as tx:
        together = await tx.usage.totals(START, END, UsageGrouping.HOUR_ALL, [acme, globex])
        per_client = await tx.usage.totals(START, END, UsageGrouping.HOUR, [acme, globex])
        only_acme = await tx.usage.totals(START, END, UsageGrouping.HOUR_ALL, [acme])

    expected: dict[datetime, tuple[int, Decimal]] = {}
    for row in per_client:
        assert row.hour is not None
        requests, cost = expected.get(row.hour, (0, Decimal(0)))
        expected[row.hour] = (requests + row.requests, EXACT.add(cost, row.cost.amount))
    assert {h.hour: (h.requests, h.cost.amount) for h in together} == expected
    assert {h.client_id for h in together} == {""}
    assert [(h.hour, h.requests) for h in together] == [(START, 3), (START + timedelta(hours=1), 2)]
    assert [(h.hour, h.cost.amount) for h in only_acme] == [
        (START, exact(COSTS[0], COSTS[1])),
        (START + timedelta(hours=1), exact(COSTS[2], COSTS[3])),
    ]


async def test_plan_histories_of_several_clients_in_one_read(uow: UowFactory) -> None:
    acme, globex, lonely = builders.client(), builders.client(), builders.client()
    first = PlanVersion("p1", acme.id, PercentageMargin(Decimal(10)), START, START)
    later = PlanVersion("p2", acme.id, PercentageMargin(Decimal(20)), END, START)
    other = PlanVersion("p3", globex.id, PercentageMargin(Decimal(5)), START, START)
    async with uow() as tx:
        for client in (acme, globex, lonely):
            await tx.clients.add(client)
        for version in (later, other, first):
            await tx.plans.add(version)
        await tx.commit()
    async with uow() as tx:
        found = await tx.plans.histories([acme.id, lonely.id])

    assert {k: [v.id for v in vs] for k, vs in found.items()} == {
        acme.id: ["p1", "p2"],
        lonely.id: [],
    }


async def test_client_totals_over_a_non_utc_month_match_the_records_exactly(
    uow: UowFactory,
) -> None:
    """A Paris month starts and ends inside UTC days: whole days come from the rollup (on
    PostgreSQL), the edges from the records, and nothing is counted twice or missed."""
    period = month_period("2025-03", ZoneInfo("Europe/Paris"))  # [Feb 28 23:00Z, Mar 31 22:00Z)
    client = builders.client()
    key = builders.key(client.id)
    instants = [
        period.start - timedelta(microseconds=1),  # outside
        period.start,  # the partial first UTC day
        period.start + timedelta(minutes=59, seconds=59),
        datetime(2025, 3, 1, tzinfo=UTC),  # the first whole UTC day
        datetime(2025, 3, 15, 12, tzinfo=UTC),
        datetime(2025, 3, 30, 23, 59, 59, tzinfo=UTC),  # the last whole UTC day
        datetime(2025, 3, 31, tzinfo=UTC),  # the partial last UTC day
        period.end - timedelta(microseconds=1),
        period.end,  # outside
    ]
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        for i, instant in enumerate(instants):
            cost = Money(Decimal(COSTS[i % len(COSTS)]) + TINY * i, "USD")
            record = builders.usage(
                client.id,
                key.id,
                started_at=instant,
                cost=cost,
                charge=Money(cost.amount * 3, "USD"),
                usage=TokenUsage(input_tokens=100 + i, output_tokens=i, cached_input_tokens=i),
            )
            assert await tx.usage.add(record)
        await tx.commit()

    async with uow() as tx:
        [totals] = await tx.usage.totals(period.start, period.end, UsageGrouping.CLIENT)
        inside = await tx.usage.for_client(client.id, period.start, period.end)

    assert len(inside) == 7
    assert totals.requests == 7
    assert totals.cost == Money(exact_sum(*(r.cost.amount for r in inside)), "USD")
    assert totals.charge == Money(exact_sum(*(r.charge.amount for r in inside)), "USD")
    assert totals.tokens.input_tokens == sum(r.usage.input_tokens for r in inside)
    assert totals.tokens.cached_input_tokens == sum(r.usage.cached_input_tokens for r in inside)


async def test_rebuilding_the_rollup_gives_the_same_totals(uow: UowFactory) -> None:
    await seeded(uow)
    async with uow() as tx:
        before = await tx.usage.totals(START, END, UsageGrouping.CLIENT)
    async with uow() as tx:
        connection = tx._connection()  # the repositories' connection, for a maintenance call
        if connection.dialect.name == "postgresql":
            await rebuild_usage_daily(connection)
            await tx.commit()
    async with uow() as tx:
        after = await tx.usage.totals(START, END, UsageGrouping.CLIENT)

    assert after == before
