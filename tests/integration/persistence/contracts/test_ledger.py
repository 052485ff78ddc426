"""LedgerRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.billing.money import Money, exact_sum
from domain.errors import NotFound
from domain.ids import new_id
from domain.invoicing.ledger import EntryKind
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed

DAY = timedelta(days=1)

PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
amounts = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=12, allow_nan=False
)


async def test_an_entry_is_appended_once_per_client_kind_and_reference(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner, other = await seed.client(uow), await seed.client(uow)
        first = builders.entry(owner.id, "1.5", reference="r-1")
        assert await uow.ledger.append(first)
        assert not await uow.ledger.append(builders.entry(owner.id, "99", reference="r-1"))
        assert await uow.ledger.append(
            builders.entry(
                owner.id, "2", reference="r-1", kind=EntryKind.PAYMENT, occurred_at=T0 + DAY
            )
        )
        assert await uow.ledger.append(builders.entry(other.id, "3", reference="r-1"))
        await uow.commit()
    async with store() as uow:
        mine = await uow.ledger.entries(owner.id)
        assert [e.amount.amount for e in mine] == [Decimal("1.5"), Decimal(2)]
        assert mine[0] == first


async def test_entries_come_in_the_order_they_occurred(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        later = builders.entry(owner.id, "1", occurred_at=T0 + timedelta(days=2))
        earlier = builders.entry(owner.id, "2", occurred_at=T0)
        middle = builders.entry(owner.id, "3", occurred_at=T0 + timedelta(days=1))
        for entry in (later, earlier, middle):
            await uow.ledger.append(entry)
        assert list(await uow.ledger.entries(owner.id)) == [earlier, middle, later]


@PROPERTY
@given(usd=st.lists(amounts, max_size=8), eur=st.lists(amounts, max_size=3))
async def test_the_balance_is_the_exact_sum_in_its_currency(
    store: UnitOfWorkFactory, usd: list[Decimal], eur: list[Decimal]
) -> None:
    async with store() as uow:  # never committed: each example starts from an empty store
        owner, other = await seed.client(uow), await seed.client(uow)
        for amount in usd:
            await uow.ledger.append(builders.entry(owner.id, amount, "USD"))
        for amount in eur:
            await uow.ledger.append(builders.entry(owner.id, amount, "EUR"))
        await uow.ledger.append(builders.entry(other.id, "5", "USD"))
        assert await uow.ledger.balance(owner.id, "USD") == Money(exact_sum(*usd), "USD")
        assert await uow.ledger.balance(owner.id, "EUR") == Money(exact_sum(*eur), "EUR")
        assert await uow.ledger.balance(owner.id, "GBP") == Money(Decimal(0), "GBP")


async def test_an_entry_of_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.ledger.append(builders.entry(new_id(), "1"))
