"""The spike evaluator on SQLite and PostgreSQL: the last hour and the trailing days summed
by the database (on PostgreSQL partly from the daily rollup), exactly, and one alert per
client per hour even when processes evaluate at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.alerting.alerts import AlertKind
from domain.alerting.spikes import SpikeRule
from domain.billing.money import Money
from domain.billing.plans import FixedPrice, PlanVersion
from domain.ids import new_id
from domain.usecases.spikes import SpikeEvaluator
from tests.fakes import FrozenClock
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
NOW = datetime(2026, 11, 30, 5, 20, tzinfo=UTC)
RULE = SpikeRule(factor=Decimal(3), floor=Decimal(1), baseline_days=7)


async def seed(uow: UowFactory, charges: dict[timedelta, str], *, fixed_price: bool) -> str:
    client = builders.client(currency="USD")
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        if fixed_price:
            plan = FixedPrice(Money(Decimal(100)))
            await tx.plans.add(
                PlanVersion(new_id(), client.id, plan, NOW - timedelta(days=60), NOW)
            )
        for ago, amount in charges.items():
            money = Money(Decimal(amount))
            record = builders.usage(
                client.id,
                key.id,
                started_at=NOW - ago,
                charge=Money(Decimal(0)) if fixed_price else money,
                cost=money if fixed_price else Money(Decimal(0)),
            )
            assert await tx.usage.add(record)
        await tx.commit()
    return client.id


def week_of(hourly: str) -> dict[timedelta, str]:
    """One record a day for the previous 7 days, each a day's worth at `hourly` an hour."""
    return {timedelta(days=d): str(Decimal(hourly) * 24) for d in range(1, 8)}


async def test_spikes_are_found_by_the_database_sums_and_raised_once_per_hour(
    uow: UowFactory,
) -> None:
    # Baseline 1/h: 3.000000000000000001 is just above 3x, 3 is not.
    spiking = await seed(
        uow, week_of("1") | {timedelta(minutes=5): "3.000000000000000001"}, fixed_price=False
    )
    steady = await seed(uow, week_of("1") | {timedelta(minutes=5): "3"}, fixed_price=False)
    flat = await seed(uow, {timedelta(minutes=30): "2"}, fixed_price=True)
    old_only = await seed(uow, {timedelta(minutes=61): "50"}, fixed_price=False)

    evaluators = [SpikeEvaluator(uow, FrozenClock(NOW), RULE) for _ in range(3)]
    raised = await asyncio.gather(*(e.evaluate() for e in evaluators))
    assert sum(raised) == 2

    async with uow() as tx:
        alerts = await tx.alerts.recent()
    by_client = {a.client_id: a for a in alerts if a.kind is AlertKind.SPEND_SPIKE}
    assert set(by_client) == {spiking, flat}
    assert steady not in by_client
    assert old_only not in by_client
    assert by_client[spiking].details["last_hour"] == "3.000000000000000001"
    assert by_client[spiking].details["hourly_average"] == "1.000000"
    assert by_client[flat].details["basis"] == "cost"
