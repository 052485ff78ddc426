"""Wallets on SQLite and PostgreSQL: modes and settings round-trip, a credit is idempotent
on its reference, holds on a wallet are conditional on its balance (concurrent holds never
take it below zero), a settled draw is on the statement, and balances equal their entries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.money import Money
from domain.budgets.limits import WALLET_PERIOD, BudgetBasis, Hold, Spend
from domain.ids import new_id
from domain.wallets.statement import EntryKind, WalletEntry
from domain.wallets.wallets import BillingMode, InsufficientBalance, Wallet, WalletSettings
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
NOW = datetime(2025, 3, 10, tzinfo=UTC)


async def _prepaid_client(uow: UowFactory, **settings: object) -> Wallet:
    client = builders.client()
    wallet = Wallet(
        client.id,
        "EUR",
        BillingMode.PREPAID,
        NOW,
        WalletSettings(**settings),  # type: ignore[arg-type]
    )
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.wallets.put(wallet)
        await tx.commit()
    return wallet


def _top_up(client_id: str, amount: str, reference: str, at: datetime = NOW) -> WalletEntry:
    return WalletEntry(
        new_id(), client_id, EntryKind.TOP_UP, Money(Decimal(amount), "EUR"), reference, at
    )


async def _post(uow: UowFactory, entry: WalletEntry) -> bool:
    async with uow() as tx:
        posted = await tx.wallets.post(entry)
        await tx.commit()
    return posted


async def _balance(uow: UowFactory, client_id: str) -> tuple[Decimal, Decimal]:
    async with uow() as tx:
        return await tx.wallets.balance(client_id)


async def test_a_wallet_round_trips_and_only_prepaid_ones_are_budgets(uow: UowFactory) -> None:
    wallet = await _prepaid_client(
        uow, low_balance=Decimal("5.5"), auto_top_up_below=Decimal("2"),
        auto_top_up_amount=Decimal("20"), overdraw_fixed=True,
    )  # fmt: skip
    other = await _prepaid_client(uow)
    async with uow() as tx:
        await tx.wallets.put(
            Wallet(other.client_id, "EUR", BillingMode.POSTPAID, NOW + timedelta(seconds=1))
        )
        await tx.commit()
    async with uow() as tx:
        assert await tx.wallets.get(wallet.client_id) == wallet
        assert (await tx.wallets.get(other.client_id)).mode is BillingMode.POSTPAID  # type: ignore[union-attr]
        budgets = await tx.wallets.budgets()
    assert [b.scope for b in budgets] == [f"wallet:{wallet.client_id}"]
    assert budgets[0].wallet
    assert budgets[0].hard_limit() == 0


async def test_a_credit_is_idempotent_on_its_reference(uow: UowFactory) -> None:
    wallet = await _prepaid_client(uow)
    assert await _post(uow, _top_up(wallet.client_id, "10.25", "pi_1"))
    assert not await _post(uow, _top_up(wallet.client_id, "10.25", "pi_1"))
    assert await _post(uow, _top_up(wallet.client_id, "0.75", "pi_2"))
    assert await _balance(uow, wallet.client_id) == (Decimal("11"), 0)
    async with uow() as tx:
        page = await tx.wallets.statement(wallet.client_id, 0, 10)
        sums = await tx.wallets.sums()
    assert page.total == 2
    assert {e.reference for e in page.entries} == {"pi_1", "pi_2"}
    assert sums == [(wallet.client_id, Decimal("11"), Decimal("11"))]


async def test_holds_never_take_a_wallet_below_zero_and_draws_are_on_the_statement(
    uow: UowFactory,
) -> None:
    wallet = await _prepaid_client(uow)
    await _post(uow, _top_up(wallet.client_id, "1", "bank-1"))
    budget = wallet.budget()

    async def hold_one() -> object:
        async with uow() as tx:
            hold = Hold(budget, WALLET_PERIOD, Decimal("0.3"), BudgetBasis.CHARGE)
            reservation = await tx.budgets.reserve(new_id(), [hold], NOW)
            await tx.commit()
        return reservation.refusal

    results = await asyncio.gather(*(hold_one() for _ in range(12)))
    assert sum(result is None for result in results) == 3
    assert await _balance(uow, wallet.client_id) == (Decimal("1"), Decimal("0.9"))

    spend = Spend(budget.scope, WALLET_PERIOD.start, Decimal("0.2"), "req-1", NOW, "EUR")
    async with uow() as tx:
        await tx.budgets.settle("req-1", [spend])
        await tx.budgets.settle("req-1", [spend])  # the draw is written once
        await tx.commit()
    async with uow() as tx:
        page = await tx.wallets.statement(wallet.client_id, 0, 10)
    draws = [e for e in page.entries if e.kind is EntryKind.USAGE]
    assert [(d.amount.amount, d.reference) for d in draws] == [(Decimal("-0.2"), "usage:req-1")]


async def test_an_adjustment_may_take_the_balance_below_zero_and_sums_agree(
    uow: UowFactory,
) -> None:
    wallet = await _prepaid_client(uow)
    await _post(uow, _top_up(wallet.client_id, "3", "t1"))
    adjustment = WalletEntry(
        new_id(),
        wallet.client_id,
        EntryKind.ADJUSTMENT,
        Money(Decimal("-4.5"), "EUR"),
        "adj-1",
        NOW,
        "operator:ann",
        "refunded the trial",
    )
    await _post(uow, adjustment)
    assert (await _balance(uow, wallet.client_id))[0] == Decimal("-1.5")
    async with uow() as tx:
        page = await tx.wallets.statement(wallet.client_id, 1, 1)
        assert (await tx.wallets.sums())[0][1:] == (Decimal("-1.5"), Decimal("-1.5"))
    assert page.total == 2
    assert len(page.entries) == 1


async def test_a_draw_within_the_balance_leaves_what_calls_hold(uow: UowFactory) -> None:
    wallet = await _prepaid_client(uow)
    await _post(uow, _top_up(wallet.client_id, "10", "t1"))
    async with uow() as tx:
        hold = Hold(wallet.budget(), WALLET_PERIOD, Decimal("4"), BudgetBasis.CHARGE)
        await tx.budgets.reserve("in-flight", [hold], NOW)
        await tx.commit()

    def fixed(amount: str, reference: str) -> WalletEntry:
        return WalletEntry(
            new_id(),
            wallet.client_id,
            EntryKind.FIXED,
            Money(Decimal(amount), "EUR"),
            reference,
            NOW,
        )

    async with uow() as tx:  # not committed: the entry goes with the refused move
        with pytest.raises(InsufficientBalance):
            await tx.wallets.post(fixed("-6.01", "f1"), within_balance=True)
    async with uow() as tx:
        assert await tx.wallets.post(fixed("-6", "f1"), within_balance=True)
        await tx.commit()
    assert await _balance(uow, wallet.client_id) == (Decimal("4"), Decimal("4"))


async def test_auto_top_up_claims_and_recent_draws(uow: UowFactory) -> None:
    wallet = await _prepaid_client(uow)
    hour = timedelta(hours=1)
    async with uow() as tx:
        first = await tx.wallets.claim_auto_top_up(wallet.client_id, NOW, NOW - hour)
        again = await tx.wallets.claim_auto_top_up(wallet.client_id, NOW + hour / 2, NOW - hour / 2)
        later = await tx.wallets.claim_auto_top_up(wallet.client_id, NOW + 2 * hour, NOW + hour)
        await tx.commit()
    assert (first, again, later) == (True, False, True)
    await _post(uow, _top_up(wallet.client_id, "5", "t1"))
    for n, (amount, at) in enumerate([("1.5", NOW), ("2", NOW - 3 * hour * 24 * 3)]):
        spend = Spend(
            wallet.budget().scope, WALLET_PERIOD.start, Decimal(amount), f"r{n}", at, "EUR"
        )
        async with uow() as tx:
            await tx.budgets.settle(f"r{n}", [spend])
            await tx.commit()
    async with uow() as tx:
        assert await tx.wallets.drawn_since(wallet.client_id, NOW - timedelta(days=7)) == Decimal(
            "1.5"
        )
        assert [w.client_id for w in await tx.wallets.prepaid()] == [wallet.client_id]
