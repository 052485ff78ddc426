"""Budget use cases: set, read many in one unit of work, scoped for a portal principal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access.principals import NotAllowed, PortalPrincipal, Role, StaffPrincipal
from domain.billing.money import Money
from domain.billing.plans import FixedPrice, PercentageMargin
from domain.budgets.limits import BudgetBasis
from domain.errors import NotFound
from domain.usecases.budgets import BudgetInput
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from domain.usecases.management import Management
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock
from tests.unit.usecases.wiring import fake_use_cases

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


async def test_budgets_of_many_clients_in_one_unit_of_work_and_scoped() -> None:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    hasher = FakeKeyHasher()
    use_cases = fake_use_cases(factory, clock, hasher)
    a, _ = await use_cases.clients.create(NewClient("A", PercentageMargin(Decimal(1))))
    b, _ = await use_cases.clients.create(NewClient("B", FixedPrice(Money(Decimal(9)))))
    c, _ = await use_cases.clients.create(NewClient("C", PercentageMargin(Decimal(1))))
    key = (await use_cases.keys.issue(NewKey(b.id))).key
    staff = Management(StaffPrincipal("ops", Role.ADMIN, "t"), use_cases)
    await staff.set_client_budget(a.id, BudgetInput(Decimal(5)))
    await staff.set_client_budget(b.id, BudgetInput(Decimal(7)))
    await staff.set_key_budget(key.id, BudgetInput(Decimal(1), basis=BudgetBasis.CHARGE))
    before = len(factory.made)

    found = await staff.budgets_of([(a.id, None), (b.id, None), (c.id, None), (b.id, key.id)])

    assert len(factory.made) == before + 1
    assert set(found) == {(a.id, None), (b.id, None), (b.id, key.id)}
    assert found[(b.id, None)].budget.basis_under(None) is BudgetBasis.CHARGE
    assert found[(b.id, key.id)].budget.limit.amount == 1
    portal = Management(PortalPrincipal(client_id=a.id, token_id="p"), use_cases)
    assert set(await portal.budgets_of([(a.id, None), (b.id, None)])) == {(a.id, None)}
    with pytest.raises(NotAllowed):
        await portal.set_client_budget(a.id, BudgetInput(Decimal(50)))
    with pytest.raises(NotFound):
        await staff.set_key_budget("no-such-key", BudgetInput(Decimal(1)))
