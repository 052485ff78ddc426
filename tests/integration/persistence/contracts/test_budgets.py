"""BudgetRepository contract (budgets, counters, holds and process leases on the counters), on
the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.billing.money import Money, exact_sum
from domain.billing.periods import Period, month_period
from domain.budgets.limits import Budget, BudgetBasis, BudgetMode, CounterMove, Hold, Refusal, Spend
from domain.errors import NotFound
from domain.ids import new_id
from domain.metering.leases import ProcessLease
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.contracts import seed

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MARCH = month_period("2026-03", ZoneInfo("UTC"))
APRIL = MARCH.next()
AT = MARCH.start + timedelta(days=3)
amounts = st.decimals(Decimal("0.01"), Decimal(40), places=6, allow_nan=False)


def budget(client_id: str, key_id: str | None = None, **overrides: Any) -> Budget:
    values: dict[str, Any] = {
        "client_id": client_id,
        "key_id": key_id,
        "limit": Money(Decimal(100), "USD"),
        "mode": BudgetMode.HARD,
        "updated_at": AT,
        "basis": BudgetBasis.CHARGE,
    }
    return Budget(**(values | overrides))


def hold(of: Budget, amount: Decimal | str, period: Period = MARCH) -> Hold:
    assert of.basis is not None
    return Hold(of, period, Decimal(amount), of.basis)


def counter(spent: str | int, reserved: str | int) -> tuple[Decimal, Decimal]:
    """A counter's expected (spent, reserved)."""
    return Decimal(spent), Decimal(reserved)


async def owner(uow: UnitOfWork) -> tuple[str, str]:
    client = await seed.client(uow)
    return client.id, (await seed.key(uow, client.id)).id


async def test_put_inserts_or_replaces_the_budget_of_its_scope(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        client_id, key_id = await owner(uow)
        of_client, of_key = budget(client_id), budget(client_id, key_id, mode=BudgetMode.SOFT)
        await uow.budgets.put(of_client)
        await uow.budgets.put(of_key)
        raised = replace(of_client, limit=Money(Decimal(250), "USD"), thresholds=(50, 90))
        await uow.budgets.put(raised)
        await uow.commit()
    async with store() as uow:
        assert sorted(await uow.budgets.all(), key=lambda b: b.scope) == sorted(
            [raised, of_key], key=lambda b: b.scope
        )
        assert await uow.budgets.remove(of_key.scope)
        assert not await uow.budgets.remove(of_key.scope)
        assert list(await uow.budgets.all()) == [raised]


@PROPERTY
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("reserve"), amounts, st.just(Decimal(0))),
            st.tuples(st.just("settle"), st.integers(0, 7), amounts | st.just(Decimal(0))),
        ),
        max_size=10,
    )
)
async def test_a_hard_limit_holds_only_what_fits_and_settling_moves_it_to_spend(
    store: UnitOfWorkFactory, ops: list[tuple[str, Any, Decimal]]
) -> None:
    spent, reserved = Decimal(0), Decimal(0)
    holds: dict[str, Decimal] = {}
    async with store() as uow:  # never committed: each example starts from an empty store
        client_id, _ = await owner(uow)
        limited = budget(client_id)
        await uow.budgets.put(limited)
        opened = False
        for n, (op, value, spend) in enumerate(ops):
            if op == "reserve":
                reservation = await uow.budgets.reserve(f"r-{n}", [hold(limited, value)], AT)
                opened = True
                fits = spent + reserved + value <= limited.limit.amount
                if fits:
                    assert reservation.refusal is None
                    holds[f"r-{n}"], reserved = value, reserved + value
                else:
                    assert reservation.refusal == Refusal(hold(limited, value), spent, reserved)
                assert reservation.opened == ()
            else:
                request = f"r-{value}"
                moves = await uow.budgets.settle(
                    request, [Spend(limited.scope, MARCH.start, spend)]
                )
                reserved -= holds.pop(request, Decimal(0))
                if opened and spend:
                    assert moves == [CounterMove(limited.scope, spent, spent + spend)]
                    spent += spend
                else:
                    assert moves == []
            assert await uow.budgets.status(limited, MARCH, BudgetBasis.CHARGE) == (
                spent,
                reserved,
            )


async def test_a_refused_hold_undoes_the_earlier_holds_of_the_request(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        client_id, key_id = await owner(uow)
        roomy, tight = budget(client_id), budget(client_id, key_id, limit=Money(Decimal(5)))
        await uow.budgets.put(roomy)
        await uow.budgets.put(tight)
        reservation = await uow.budgets.reserve("r-1", [hold(roomy, "10"), hold(tight, "10")], AT)
        assert reservation.refusal == Refusal(hold(tight, "10"), Decimal(0), Decimal(0))
        assert await uow.budgets.status(roomy, MARCH, BudgetBasis.CHARGE) == counter(0, 0)
        soft = budget(client_id, key_id, mode=BudgetMode.SOFT, limit=Money(Decimal(1)))
        await uow.budgets.put(soft)  # same scope, same basis: the counter is kept
        assert (await uow.budgets.reserve("r-2", [hold(soft, "30")], AT)).refusal is None
        assert await uow.budgets.status(soft, MARCH, BudgetBasis.CHARGE) == counter(0, 30)


async def test_a_new_counter_starts_from_the_spend_recorded_in_its_period(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        client_id, key_id = await owner(uow)
        for started_at, charge in ((AT, "1.25"), (AT + timedelta(days=1), "2"), (APRIL.start, "7")):
            await uow.usage.add(
                builders.usage(
                    client_id,
                    key_id,
                    started_at=started_at,
                    charge=Money(Decimal(charge), "USD"),
                    cost=Money(Decimal("0.5"), "USD"),
                )
            )
        charged, costed = budget(client_id), budget(client_id, key_id, basis=BudgetBasis.COST)
        assert await uow.budgets.status(charged, MARCH, BudgetBasis.CHARGE) == counter("3.25", 0)
        await uow.budgets.put(charged)
        await uow.budgets.put(costed)
        reservation = await uow.budgets.reserve("r-1", [hold(charged, "1"), hold(costed, "1")], AT)
        assert reservation.refusal is None
        assert reservation.opened == (
            CounterMove(charged.scope, Decimal(0), Decimal("3.25")),
            CounterMove(costed.scope, Decimal(0), Decimal(1)),
        )
        assert await uow.budgets.status(costed, MARCH, BudgetBasis.COST) == counter(1, 1)
        again = await uow.budgets.reserve("r-2", [hold(charged, "1")], AT)
        assert again.opened == ()


async def test_a_basis_change_or_a_removal_forgets_the_counters(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        client_id, _ = await owner(uow)
        charged = budget(client_id)
        await uow.budgets.put(charged)
        await uow.budgets.reserve("r-1", [hold(charged, "4")], AT)
        await uow.budgets.settle("r-1", [Spend(charged.scope, MARCH.start, Decimal(3))])
        await uow.budgets.reserve("r-2", [hold(charged, "6")], AT)
        await uow.budgets.put(replace(charged, limit=Money(Decimal(50), "USD")))
        assert await uow.budgets.status(charged, MARCH, BudgetBasis.CHARGE) == counter(3, 6)
        costed = replace(charged, basis=BudgetBasis.COST)
        await uow.budgets.put(costed)
        assert await uow.budgets.status(costed, MARCH, BudgetBasis.COST) == counter(0, 0)
        await uow.budgets.reserve("r-3", [hold(costed, "2")], AT)
        assert await uow.budgets.remove(costed.scope)
        assert await uow.budgets.status(costed, MARCH, BudgetBasis.COST) == counter(0, 0)
        assert await uow.budgets.settle("r-3", [Spend(costed.scope, MARCH.start, Decimal(1))]) == []


async def test_a_process_lease_takes_from_the_counter_and_gives_back(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        client_id, _ = await owner(uow)
        limited = budget(client_id, limit=Money(Decimal(10), "USD"))
        await uow.budgets.put(limited)
        taken = await uow.budgets.take_lease("p-1", hold(limited, "2"), Decimal(3))
        assert (taken.amount, taken.refusal) == (Decimal(5), None)
        assert await uow.budgets.status(limited, MARCH, BudgetBasis.CHARGE) == counter(0, 5)
        # 5 more with 3 extra does not fit: the hold alone does
        second = await uow.budgets.take_lease("p-2", hold(limited, "5"), Decimal(3))
        assert (second.amount, second.refusal) == (Decimal(5), None)
        refused = await uow.budgets.take_lease("p-1", hold(limited, "1"), Decimal(0))
        assert refused.amount == 5
        assert refused.refusal == Refusal(hold(limited, "1"), Decimal(0), Decimal(10))
        # a call of p-1 spends 1.5 out of its lease
        moves = await uow.budgets.settle(
            "r-1", [Spend(limited.scope, MARCH.start, Decimal("1.5"))], lease_owner="p-1"
        )
        assert moves == [CounterMove(limited.scope, Decimal(0), Decimal("1.5"))]
        assert await uow.budgets.status(limited, MARCH, BudgetBasis.CHARGE) == (
            Decimal("1.5"),
            Decimal("8.5"),
        )
        left = await uow.budgets.return_lease("p-1", limited.scope, MARCH.start, Decimal(1))
        assert left == Decimal("2.5")
        assert await uow.budgets.return_lease("p-9", limited.scope, MARCH.start, Decimal(1)) == 0
        await uow.leases.renew(ProcessLease("p-1", AT + timedelta(minutes=1)))
        assert await uow.budgets.reclaim_leases(AT) == 1  # p-2 holds no live process lease
        assert await uow.budgets.status(limited, MARCH, BudgetBasis.CHARGE) == (
            Decimal("1.5"),
            Decimal("2.5"),
        )
        assert exact_sum(Decimal("1.5"), Decimal("2.5")) == 4


async def test_a_budget_of_an_unknown_client_or_key_is_not_found(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.budgets.put(budget(new_id()))
    async with store() as uow:
        client_id, _ = await owner(uow)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.budgets.put(budget(client_id, new_id()))
