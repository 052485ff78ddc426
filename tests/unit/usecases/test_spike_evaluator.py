"""The spike evaluator: per client, the last hour against the trailing average, in charge (or
provider cost for a fixed-price client), raised once per client per hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.alerting.alerts import AlertKind
from domain.alerting.spikes import SpikeRule
from domain.billing.money import Money
from domain.billing.plans import FixedPrice, PercentageMargin, PricingPlan
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.spikes import SpikeEvaluator
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock
from tests.integration.persistence import builders

NOW = datetime(2026, 11, 30, 5, 30, tzinfo=UTC)
RULE = SpikeRule(factor=Decimal(4), floor=Decimal(10), baseline_days=7)


class World:
    def __init__(self) -> None:
        self.factory = FakeUnitOfWorkFactory()
        self.clock = FrozenClock(NOW - timedelta(days=30))
        self.evaluator = SpikeEvaluator(self.factory, self.clock, RULE)

    async def client(self, name: str, plan: PricingPlan) -> str:
        created, _ = await ClientUseCases(self.factory, self.clock).create(NewClient(name, plan))
        return created.id

    async def spend(self, client_id: str, at: datetime, charge: str, cost: str = "0") -> None:
        record = builders.usage(
            client_id,
            "key",
            started_at=at,
            charge=Money(Decimal(charge)),
            cost=Money(Decimal(cost)),
        )
        async with self.factory() as uow:
            await uow.usage.add(record)
            await uow.commit()

    async def spikes(self) -> list[str]:
        async with self.factory() as uow:
            found = await uow.alerts.recent()
        return [a.client_id for a in found if a.kind is AlertKind.SPEND_SPIKE]


async def test_a_client_far_above_its_average_gets_one_alert_per_hour() -> None:
    world = World()
    steady = await world.client("Steady", PercentageMargin(Decimal(10)))
    spiking = await world.client("Spiking", PercentageMargin(Decimal(10)))
    for client_id in (steady, spiking):
        for day in range(1, 8):  # 168 over the previous week: 1 an hour
            await world.spend(client_id, NOW - timedelta(days=day), "24")
    await world.spend(steady, NOW - timedelta(minutes=10), "3")
    await world.spend(spiking, NOW - timedelta(minutes=10), "30")
    world.clock.set(NOW)

    assert await world.evaluator.evaluate() == 1
    assert await world.evaluator.evaluate() == 0  # the same hour: deduplicated
    assert await world.spikes() == [spiking]

    world.clock.set(NOW + timedelta(minutes=35))  # next UTC hour, still within the window
    assert await world.evaluator.evaluate() == 1
    assert await world.spikes() == [spiking, spiking]


async def test_spend_under_the_floor_is_never_a_spike() -> None:
    world = World()
    quiet = await world.client("Quiet", PercentageMargin(Decimal(10)))
    await world.spend(quiet, NOW - timedelta(minutes=5), "9.99")
    world.clock.set(NOW)
    assert await world.evaluator.evaluate() == 0


async def test_a_fixed_price_client_is_measured_in_provider_cost() -> None:
    world = World()
    flat = await world.client("Flat", FixedPrice(Money(Decimal(500))))
    await world.spend(flat, NOW - timedelta(minutes=5), charge="0", cost="25")
    world.clock.set(NOW)

    assert await world.evaluator.evaluate() == 1
    async with world.factory() as uow:
        (alert,) = await uow.alerts.recent()
    assert alert.details["basis"] == "cost"
    assert alert.details["last_hour"] == "25"
    assert alert.dedupe_key.startswith(f"spend_spike:{flat}:")


async def test_usage_older_than_the_last_hour_is_baseline_not_spike() -> None:
    world = World()
    client_id = await world.client("Old", PercentageMargin(Decimal(10)))
    await world.spend(client_id, NOW - timedelta(minutes=61), "1000")
    world.clock.set(NOW)
    assert await world.evaluator.evaluate() == 0
