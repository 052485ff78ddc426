"""Budgets and counters on SQLite and PostgreSQL: holds are conditional and all-or-nothing,
concurrent holds never pass a hard limit together, settling releases once, a new counter
starts from the spend already recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.budgets.limits import Budget, BudgetBasis, BudgetMode, CounterMove, Hold, Refusal, Spend
from domain.ids import new_id
from domain.metering.leases import ProcessLease
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
PERIOD = month_period("2025-03", ZoneInfo("UTC"))
NOW = datetime(2025, 3, 10, tzinfo=UTC)


def budget(client_id: str, limit: str, key_id: str | None = None, **more: object) -> Budget:
    values: dict[str, object] = {
        "client_id": client_id,
        "key_id": key_id,
        "limit": Money(Decimal(limit), "USD"),  # the usage builders' currency
        "mode": BudgetMode.HARD,
        "updated_at": NOW,
    }
    return Budget(**(values | more))  # type: ignore[arg-type]


def hold(of: Budget, amount: str) -> Hold:
    return Hold(of, PERIOD, Decimal(amount), BudgetBasis.CHARGE)


async def _client_and_key(uow: UowFactory) -> tuple[str, str]:
    client = builders.client()
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.commit()
    return client.id, key.id


async def _reserve(uow: UowFactory, request_id: str, *holds: Hold) -> Refusal | None:
    async with uow() as tx:
        reservation = await tx.budgets.reserve(request_id, holds, NOW)
        await tx.commit()
    return reservation.refusal


async def _status(uow: UowFactory, of: Budget) -> tuple[Decimal, Decimal]:
    async with uow() as tx:
        return await tx.budgets.status(of, PERIOD, BudgetBasis.CHARGE)


async def test_budgets_are_stored_replaced_and_removed(uow: UowFactory) -> None:
    client_id, key_id = await _client_and_key(uow)
    mine = budget(client_id, "10.5", basis=BudgetBasis.COST, thresholds=(90, 25))
    async with uow() as tx:
        await tx.budgets.put(mine)
        await tx.budgets.put(budget(client_id, "3", key_id))
        await tx.commit()
    async with uow() as tx:
        stored = {b.scope: b for b in await tx.budgets.all()}
    assert stored[f"client:{client_id}"] == mine
    assert stored[f"client:{client_id}"].thresholds == (25, 90)
    assert stored[f"key:{key_id}"].limit == Money(Decimal(3), "USD")
    async with uow() as tx:
        await tx.budgets.put(budget(client_id, "20", mode=BudgetMode.SOFT))
        assert await tx.budgets.remove(f"key:{key_id}")
        assert not await tx.budgets.remove(f"key:{key_id}")
        await tx.commit()
    async with uow() as tx:
        [only] = await tx.budgets.all()
    assert (only.limit.amount, only.mode) == (Decimal(20), BudgetMode.SOFT)


async def test_a_hard_hold_fits_or_is_refused_with_the_counter(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    assert await _reserve(uow, "r1", hold(mine, "0.6")) is None
    refusal = await _reserve(uow, "r2", hold(mine, "0.400000000000000001"))
    assert refusal is not None
    assert (refusal.spent, refusal.reserved) == (0, Decimal("0.6"))
    assert await _reserve(uow, "r3", hold(mine, "0.4")) is None  # exactly the limit fits
    assert await _status(uow, mine) == (0, 1)


async def test_holds_are_all_or_nothing_across_client_and_key(uow: UowFactory) -> None:
    client_id, key_id = await _client_and_key(uow)
    client_budget, key_budget = budget(client_id, "5"), budget(client_id, "1", key_id)
    refused = await _reserve(uow, "r1", hold(client_budget, "2"), hold(key_budget, "2"))
    assert refused is not None
    assert await _status(uow, client_budget) == (0, 0)
    assert await _reserve(uow, "r2", hold(client_budget, "1"), hold(key_budget, "1")) is None
    assert await _status(uow, client_budget) == (0, 1)
    assert await _status(uow, key_budget) == (0, 1)


async def test_settling_moves_the_hold_into_spend_once(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    await _reserve(uow, "r1", hold(mine, "0.5"))
    spend = [Spend(mine.scope, PERIOD.start, Decimal("0.123456789012345678"))]
    async with uow() as tx:
        [move] = await tx.budgets.settle("r1", spend)
        assert await tx.budgets.settle("r1", []) == []  # nothing left to release
        await tx.commit()
    assert (move.spent_before, move.spent_after) == (0, Decimal("0.123456789012345678"))
    assert await _status(uow, mine) == (Decimal("0.123456789012345678"), 0)


async def test_a_new_counter_starts_from_the_recorded_spend(uow: UowFactory) -> None:
    client_id, key_id = await _client_and_key(uow)
    async with uow() as tx:
        for charge in ("0.25", "0.5"):
            await tx.usage.add(
                builders.usage(client_id, key_id, charge=Money(Decimal(charge), "USD"))
            )
        await tx.commit()
    mine = budget(client_id, "1")
    assert await _status(uow, mine) == (Decimal("0.75"), 0)  # before any counter
    async with uow() as tx:
        reservation = await tx.budgets.reserve("r1", [hold(mine, "0.3")], NOW)
        await tx.commit()
    assert reservation.refusal is not None
    assert reservation.opened == (CounterMove(mine.scope, Decimal(0), Decimal("0.75")),)
    assert await _reserve(uow, "r2", hold(mine, "0.25")) is None
    assert await _status(uow, mine) == (Decimal("0.75"), Decimal("0.25"))


async def test_concurrent_holds_never_pass_the_limit_together(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")

    async def one(i: int) -> object:
        return await _reserve(uow, new_id(), hold(mine, "0.3"))

    results = await asyncio.gather(*(one(i) for i in range(12)))

    assert sum(result is None for result in results) == 3
    assert await _status(uow, mine) == (0, Decimal("0.9"))


async def test_a_counter_another_process_commits_meanwhile_takes_the_hold(
    uow: UowFactory, backend: str
) -> None:
    """PostgreSQL reads each statement at its own snapshot (READ COMMITTED): the conditional
    update may find no counter, and the read after it find the one another process committed in
    between. A hold that fits must then go on that counter, not be refused (two gateways
    starting a period together refused calls far under their limit)."""
    if backend == "sqlite":
        pytest.skip("SQLite's write lock lets no other writer in between the two statements")
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    async with uow() as tx:
        counters = tx.budgets
        look = counters._counter
        raced: list[Refusal | None] = []

        async def read_after_another_commit(scope: str, start: datetime) -> object:
            if not raced:  # between this transaction's update and its read
                raced.append(await _reserve(uow, "another", hold(mine, "0.25")))
            return await look(scope, start)

        counters._counter = read_after_another_commit  # type: ignore[method-assign]
        reservation = await counters.reserve("mine", [hold(mine, "0.5")], NOW)
        await tx.commit()

    assert raced == [None]
    assert reservation.refusal is None
    assert await _status(uow, mine) == (0, Decimal("0.75"))


async def test_removing_a_budget_or_changing_its_basis_recounts_from_the_records(
    uow: UowFactory,
) -> None:
    client_id, key_id = await _client_and_key(uow)
    mine = budget(client_id, "10")
    await _reserve(uow, "r1", hold(mine, "1"))
    async with uow() as tx:
        await tx.budgets.put(mine)
        await tx.budgets.remove(mine.scope)
        await tx.usage.add(builders.usage(client_id, key_id, charge=Money(Decimal("2"), "USD")))
        await tx.budgets.put(mine)
        await tx.commit()
    assert await _status(uow, mine) == (Decimal(2), 0)  # spend while it was gone, no old hold
    async with uow() as tx:
        assert await tx.budgets.settle("r1", []) == []  # the old hold is gone, nothing moves
        await tx.commit()
    await _reserve(uow, "r2", hold(mine, "1"))
    async with uow() as tx:
        await tx.budgets.put(budget(client_id, "10"))  # same basis: counters kept
        await tx.commit()
    assert await _status(uow, mine) == (Decimal(2), Decimal(1))
    async with uow() as tx:
        await tx.budgets.put(budget(client_id, "10", basis=BudgetBasis.COST))
        await tx.commit()
        status = await tx.budgets.status(mine, PERIOD, BudgetBasis.COST)
    assert status == (Decimal("0.000123456789012"), 0)


async def test_counters_stay_exact_past_28_digits(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "99999999999999999")
    big = "12345678901234567.123456789012345678"  # 35 significant digits
    await _reserve(uow, "r1", hold(mine, big))
    async with uow() as tx:
        [move] = await tx.budgets.settle("r1", [Spend(mine.scope, PERIOD.start, Decimal(big))])
        await tx.commit()
    assert move.spent_after == Decimal(big)
    assert move.spent_before == 0
    assert await _status(uow, mine) == (Decimal(big), 0)


async def _take(
    uow: UowFactory, process_id: str, wanted: Hold, extra: str = "0"
) -> tuple[Decimal, Refusal | None]:
    async with uow() as tx:
        taken = await tx.budgets.take_lease(process_id, wanted, Decimal(extra))
        await tx.commit()
    return taken.amount, taken.refusal


async def test_a_lease_takes_the_slack_when_it_fits_else_only_what_is_needed(
    uow: UowFactory,
) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    async with uow() as tx:
        await tx.budgets.put(mine)
        await tx.commit()

    assert await _take(uow, "p1", hold(mine, "0.2"), "0.3") == (Decimal("0.5"), None)
    assert await _status(uow, mine) == (0, Decimal("0.5"))
    # 0.4 + 0.2 slack does not fit (0.5 + 0.6 > 1), 0.4 alone does: no slack then
    assert await _take(uow, "p2", hold(mine, "0.4"), "0.2") == (Decimal("0.4"), None)
    amount, refusal = await _take(uow, "p2", hold(mine, "0.100000000000000001"))
    assert amount == Decimal("0.4")  # nothing added
    assert refusal is not None
    assert (refusal.spent, refusal.reserved) == (0, Decimal("0.9"))
    assert await _status(uow, mine) == (0, Decimal("0.9"))


async def test_a_settled_call_moves_its_spend_out_of_its_lease(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    async with uow() as tx:
        await tx.budgets.put(mine)
        await tx.commit()
    await _take(uow, "p1", hold(mine, "0.5"))

    async with uow() as tx:
        spend = Spend(mine.scope, PERIOD.start, Decimal("0.2"))
        [move] = await tx.budgets.settle("r1", [spend], lease_owner="p1")
        await tx.commit()
    assert move == CounterMove(mine.scope, Decimal(0), Decimal("0.2"))
    assert await _status(uow, mine) == (Decimal("0.2"), Decimal("0.3"))

    async with uow() as tx:  # a spend past what the lease holds takes only what it holds
        spend = Spend(mine.scope, PERIOD.start, Decimal("0.4"))
        await tx.budgets.settle("r2", [spend], lease_owner="p1")
        assert await tx.budgets.return_lease("p1", mine.scope, PERIOD.start, Decimal(1)) == 0
        await tx.commit()
    assert await _status(uow, mine) == (Decimal("0.6"), 0)


async def test_giving_back_and_reclaiming_the_leases_of_dead_processes(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    async with uow() as tx:
        await tx.budgets.put(mine)
        await tx.leases.renew(ProcessLease("alive", NOW + timedelta(seconds=15)))
        await tx.leases.renew(ProcessLease("dead", NOW - timedelta(seconds=1)))
        await tx.commit()
    await _take(uow, "alive", hold(mine, "0.3"))
    await _take(uow, "dead", hold(mine, "0.2"))
    await _take(uow, "never-registered", hold(mine, "0.1"))

    async with uow() as tx:
        left = await tx.budgets.return_lease("alive", mine.scope, PERIOD.start, Decimal("0.1"))
        assert left == Decimal("0.2")
        assert await tx.budgets.reclaim_leases(NOW) == 2
        assert await tx.budgets.reclaim_leases(NOW) == 0
        await tx.commit()
    assert await _status(uow, mine) == (0, Decimal("0.2"))  # only the live process's lease


async def test_removing_a_budget_forgets_its_leases(uow: UowFactory) -> None:
    client_id, _ = await _client_and_key(uow)
    mine = budget(client_id, "1")
    async with uow() as tx:
        await tx.budgets.put(mine)
        await tx.commit()
    await _take(uow, "p1", hold(mine, "0.3"))
    async with uow() as tx:
        assert await tx.budgets.remove(mine.scope)
        assert await tx.budgets.return_lease("p1", mine.scope, PERIOD.start, Decimal(1)) == 0
        await tx.budgets.put(mine)
        await tx.commit()
    assert await _status(uow, mine) == (0, 0)
