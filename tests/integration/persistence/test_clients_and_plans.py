"""Clients and plan versions round-trip exactly, in order, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.clients import ClientStatus
from domain.billing.money import Money
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PlanVersion
from domain.errors import Conflict, NotFound
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0, T0_UTC

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def test_client_round_trips_with_exact_tax_rate_and_utc_instant(uow: UowFactory) -> None:
    client = builders.client(tax_rate=Decimal("20.1234"), status=ClientStatus.SUSPENDED)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.commit()

    async with uow() as tx:
        stored = await tx.clients.get(client.id)

    assert stored == client
    assert stored is not None
    assert str(stored.tax_rate) == "20.1234"
    assert stored.created_at == T0_UTC
    assert stored.created_at.tzinfo is UTC
    assert stored.billing_email == "billing@acme.test"


async def test_missing_client_is_none(uow: UowFactory) -> None:
    async with uow() as tx:
        assert await tx.clients.get("nope") is None


async def test_client_list_and_update(uow: UowFactory) -> None:
    beta, alpha = builders.client(name="Beta"), builders.client(name="Alpha", billing_email=None)
    async with uow() as tx:
        await tx.clients.add(beta)
        await tx.clients.add(alpha)
        await tx.commit()

    changed = replace(alpha, name="Alpha Ltd", status=ClientStatus.SUSPENDED, tax_rate=Decimal(7))
    async with uow() as tx:
        await tx.clients.update(changed)
        await tx.commit()

    async with uow() as tx:
        listed = await tx.clients.list()
    assert [c.name for c in listed] == ["Alpha Ltd", "Beta"]
    assert listed[0] == changed
    assert listed[0].billing_email is None


async def test_duplicate_client_is_conflict_and_unknown_update_is_not_found(
    uow: UowFactory,
) -> None:
    client = builders.client()
    async with uow() as tx:
        await tx.clients.add(client)
        with pytest.raises(Conflict):
            await tx.clients.add(client)
        with pytest.raises(NotFound):
            await tx.clients.update(builders.client())
        await tx.commit()  # a duplicate does not break the transaction
    async with uow() as tx:
        assert await tx.clients.get(client.id) == client


async def test_plan_history_is_in_effective_order_with_every_plan_kind(uow: UowFactory) -> None:
    client = builders.client(currency="EUR")
    hour = timedelta(hours=1)
    later = PlanVersion(
        "p3", client.id, FixedPrice(Money(Decimal("1500.00"), "EUR")), T0 + 2 * hour, T0
    )
    first = PlanVersion("p1", client.id, PercentageMargin(Decimal("12.3456")), T0, T0)
    middle = PlanVersion(
        "p2", client.id, FixedFee(Money(Decimal("99.99"), "EUR")), T0 + hour, T0 + 3 * hour
    )
    async with uow() as tx:
        await tx.clients.add(client)
        for version in (later, first, middle):
            await tx.plans.add(version)
        await tx.commit()

    async with uow() as tx:
        history = await tx.plans.history(client.id)
        other = await tx.plans.history("someone-else")

    assert [v.id for v in history] == ["p1", "p2", "p3"]
    assert list(history) == [first, middle, later]
    assert isinstance(history[0].plan, PercentageMargin)
    assert str(history[0].plan.percent) == "12.3456"
    assert history[1].plan == FixedFee(Money(Decimal("99.99"), "EUR"))
    assert history[2].plan == FixedPrice(Money(Decimal("1500"), "EUR"))
    assert other == []


async def test_plan_for_unknown_client_is_not_found(uow: UowFactory) -> None:
    version = PlanVersion("p1", "ghost", PercentageMargin(Decimal(10)), T0, T0)
    async with uow() as tx:
        with pytest.raises(NotFound):
            await tx.plans.add(version)
