"""ClientRepository and PlanRepository contracts, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.billing.clients import ClientStatus
from domain.billing.money import Money
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PlanVersion, PricingPlan
from domain.errors import Conflict, NotFound
from domain.ids import new_id
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed


async def test_a_client_reads_back_as_added(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        added = await seed.client(uow)
        await uow.commit()
    async with store() as uow:
        assert await uow.clients.get(added.id) == added
        assert await uow.clients.get(new_id()) is None


async def test_a_second_client_with_the_same_id_is_a_conflict(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        first = await seed.client(uow)
        with pytest.raises(Conflict):
            await seed.client(uow, id=first.id, name="Other")
        await uow.commit()
    async with store() as uow:
        assert await uow.clients.get(first.id) == first


async def test_clients_are_listed_by_name_then_id(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        zeta = await seed.client(uow, name="Zeta", created_at=T0)
        alpha = await seed.client(uow, name="Alpha", created_at=T0 + timedelta(days=1))
        twins = [await seed.client(uow, name="Twin", id=i) for i in ("t-2", "t-1")]
        await uow.commit()
    async with store() as uow:
        listed = [c.id for c in await uow.clients.list()]
    assert listed == [alpha.id, "t-1", "t-2", zeta.id]
    assert {t.id for t in twins} == {"t-1", "t-2"}


async def test_update_overwrites_name_status_and_billing_details(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        added = await seed.client(uow)
        await uow.commit()
    changed = replace(
        added,
        name="Acme Ltd",
        status=ClientStatus.SUSPENDED,
        billing_email="ap@acme.test",
        tax_rate=Decimal("0.5"),
    )
    async with store() as uow:
        await uow.clients.update(changed)
        await uow.commit()
    async with store() as uow:
        assert await uow.clients.get(added.id) == changed


async def test_update_never_moves_the_creation_instant_or_the_currency(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        added = await seed.client(uow, currency="EUR")
        await uow.clients.update(replace(added, created_at=T0 + timedelta(days=3), currency="USD"))
        stored = await uow.clients.get(added.id)
    assert stored is not None
    assert (stored.created_at, stored.currency) == (added.created_at, "EUR")


async def test_updating_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.clients.update(replace(builders.client(), name="ghost"))


def version(
    client_id: str, days: int, created: int = 0, plan: PricingPlan | None = None
) -> PlanVersion:
    return PlanVersion(
        id=new_id(),
        client_id=client_id,
        plan=plan or PercentageMargin(Decimal("12.5")),
        effective_from=T0 + timedelta(days=days),
        created_at=T0 + timedelta(seconds=created),
    )


async def test_plan_history_is_in_effective_order_per_client(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        mine, theirs = await seed.client(uow), await seed.client(uow)
        later = version(mine.id, 30, plan=FixedFee(Money(Decimal("99.99"), "EUR")))
        first = version(mine.id, 0)
        restated = version(mine.id, 0, created=60, plan=FixedPrice(Money(Decimal("10"), "EUR")))
        other = version(theirs.id, 1)
        for v in (later, restated, first, other):
            await uow.plans.add(v)
        await uow.commit()
    async with store() as uow:
        history = await uow.plans.history(mine.id)
        histories = await uow.plans.histories([mine.id, theirs.id, "nobody"])
    assert list(history) == [first, restated, later]
    assert {k: list(v) for k, v in histories.items()} == {
        mine.id: [first, restated, later],
        theirs.id: [other],
        "nobody": [],
    }


async def test_a_second_plan_version_with_the_same_id_is_a_conflict(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        first = version(owner.id, 0)
        await uow.plans.add(first)
        with pytest.raises(Conflict):
            await uow.plans.add(replace(first, effective_from=T0 + timedelta(days=2)))
        assert list(await uow.plans.history(owner.id)) == [first]


async def test_a_plan_version_of_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.plans.add(version(new_id(), 0))
