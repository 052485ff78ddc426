"""ClientUseCases.draft: the month's usage and fixed amounts, in the agency's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.money import Money
from domain.billing.plans import FixedFee, PercentageMargin
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.usecases.clients import ClientUseCases, NewClient
from tests.fakes import FakeUnitOfWorkFactory, FrozenClock

MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)


def usage(client_id: str, at: datetime, cost: str, charge: str) -> UsageRecord:
    return UsageRecord(
        id=at.isoformat(),
        request_id=at.isoformat(),
        attempt=0,
        client_id=client_id,
        api_key_id="k",
        model_id="demo/chat",
        provider="demo",
        usage=TokenUsage(input_tokens=10, output_tokens=5),
        cost=Money(Decimal(cost)),
        charge=Money(Decimal(charge)),
        price_version_id="p",
        plan_version_id=None,
        started_at=at,
        latency_ms=1,
        status=CallStatus.SUCCEEDED,
        source=UsageSource.REPORTED,
    )


async def test_the_draft_prorates_a_mid_month_plan_change_and_sums_usage() -> None:
    uow = FakeUnitOfWorkFactory()
    clock = FrozenClock(datetime(2026, 3, 20, tzinfo=UTC))
    clients = ClientUseCases(uow, clock, ZoneInfo("UTC"))
    client, _ = await clients.create(
        NewClient("Acme", PercentageMargin(Decimal(50)), plan_effective_from=MARCH_1)
    )
    await clients.set_plan(client.id, FixedFee(Money(Decimal("31"))), MARCH_1 + timedelta(days=16))
    async with uow() as tx:
        await tx.usage.add(usage(client.id, MARCH_1 + timedelta(days=2), "2", "3"))
        await tx.usage.add(usage(client.id, MARCH_1 - timedelta(seconds=1), "100", "150"))
        await tx.commit()

    draft = await clients.draft(client.id, "2026-03")

    assert draft.requests == 1
    assert draft.usage_charge == Money(Decimal("3"))
    [fee] = draft.fixed
    assert fee.amount == Money(Decimal("15.00"))  # 15 of 31 days
    assert draft.revenue == Money(Decimal("18.00"))
    assert draft.profit == Money(Decimal("16.00"))
