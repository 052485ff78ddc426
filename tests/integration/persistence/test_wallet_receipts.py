"""A client's monthly invoice and its wallet, on SQLite and PostgreSQL: the same lines as a
postpaid one; what the wallet drew toward it (the calls it took, the period's fixed amounts) is
posted as its payment at closing, a receipt when that covers the total; what it does not cover
(tax, usage from before the client became prepaid) stays due; the books verify."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from domain.billing.money import Money
from domain.billing.plans import FixedFee
from domain.errors import ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import InvoiceStatus, LineKind
from domain.invoicing.ledger import EntryKind
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.wallets import WalletUseCases
from domain.wallets.statement import EntryKind as WalletEntryKind
from domain.wallets.statement import WalletEntry
from domain.wallets.wallets import BillingMode
from tests.fakes import FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.test_invoices import (
    AFTER_APRIL,
    APRIL_START,
    UowFactory,
    add_client,
    call,
    invoicing,
)


async def prepaid_call(
    uow: UowFactory, client_id: str, key_id: str, at: datetime, charge: str
) -> None:
    """A call as the gateway settles it for a prepaid client: its usage record, its ledger
    accrual and its draw on the wallet (referenced by the request id)."""
    record = builders.usage(
        client_id,
        key_id,
        started_at=at,
        model_id="m/a",
        charge=Money(Decimal(charge), "USD"),
        cost=Money(Decimal(charge), "USD"),
    )
    async with uow() as tx:
        assert await tx.usage.add(record)
        await tx.ledger.append(
            builders.entry(client_id, charge, reference=f"{record.request_id}#1")
        )
        await tx.wallets.post(draw(client_id, f"usage:{record.request_id}", charge, at))
        await tx.commit()


def draw(client_id: str, reference: str, amount: str, at: datetime) -> WalletEntry:
    kind = WalletEntryKind.USAGE if reference.startswith("usage:") else WalletEntryKind.FIXED
    return WalletEntry(
        new_id(), client_id, kind, Money(-Decimal(amount), "USD"), reference, at, "test"
    )


async def prepaid(uow: UowFactory, client_id: str, clock: FrozenClock) -> None:
    wallets = WalletUseCases(uow, clock)
    await wallets.set_mode(client_id, BillingMode.PREPAID, "ops")
    await wallets.top_up(client_id, Decimal(500), "wire-1", "", "ops")


async def draw_fixed(uow: UowFactory, client_id: str, amount: str) -> None:
    async with uow() as tx:  # as WalletKeeper draws the period's fixed amount
        await tx.wallets.post(draw(client_id, f"fixed:{client_id}:2026-04:v1", amount, APRIL_START))
        await tx.commit()


async def test_a_prepaid_clients_invoice_is_a_paid_receipt(uow: UowFactory) -> None:
    paying, key = await add_client(uow, FixedFee(Money("100.00")), tax="0")
    postpaid, other_key = await add_client(uow, FixedFee(Money("100.00")), tax="0")
    clock = FrozenClock(APRIL_START)
    await prepaid(uow, paying, clock)
    await draw_fixed(uow, paying, "100.00")
    await prepaid_call(uow, paying, key, APRIL_START + timedelta(days=3), "1.25")
    await call(uow, postpaid, other_key, APRIL_START + timedelta(days=3), "1.25")
    clock.set(AFTER_APRIL)

    created = (await invoicing(uow, clock).close_period("2026-04")).created

    by_client = {invoice.client_id: invoice for invoice in created}
    receipt, invoice = by_client[paying], by_client[postpaid]
    assert [(line.kind, line.amount) for line in receipt.lines] == [
        (line.kind, line.amount) for line in invoice.lines
    ]
    assert receipt.lines[0].kind is LineKind.USAGE
    assert (receipt.status, invoice.status) == (InvoiceStatus.PAID, InvoiceStatus.FINALIZED)
    assert receipt.total == Money("101.25")
    stored = await invoicing(uow, clock).get(receipt.id)
    assert stored.status is InvoiceStatus.PAID
    assert stored.paid_at == AFTER_APRIL
    async with uow() as tx:
        entries = await tx.ledger.entries(paying)
        balance = await tx.ledger.balance(paying, "USD")
    payments = [e for e in entries if e.kind is EntryKind.PAYMENT]
    assert [p.amount for p in payments] == [Money("-101.25")]
    assert "prepaid wallet" in payments[0].description
    assert balance == Money("0")  # nothing due
    assert await invoicing(uow, clock).verify() == []
    assert await invoicing(uow, clock).mark_paid(receipt.id) == stored  # a no-op


async def test_what_the_wallet_did_not_pay_stays_due(uow: UowFactory) -> None:
    """Tax (a wallet draws the charge before tax) and usage from before the client became
    prepaid are not paid from the wallet: the invoice is finalized with only the wallet's part
    paid, and marking it paid posts the rest."""
    client_id, key = await add_client(uow, FixedFee(Money("100.00")), tax="20")
    clock = FrozenClock(APRIL_START)
    await call(uow, client_id, key, APRIL_START + timedelta(days=1), "3.00")  # still postpaid
    await prepaid(uow, client_id, clock)
    await draw_fixed(uow, client_id, "100.00")
    await prepaid_call(uow, client_id, key, APRIL_START + timedelta(days=3), "1.996")
    clock.set(AFTER_APRIL)

    [invoice] = (await invoicing(uow, clock).close_period("2026-04")).created

    assert invoice.status is InvoiceStatus.FINALIZED
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Money("105.00"),
        Money("21.00"),
        Money("126.00"),
    )
    async with uow() as tx:
        entries = await tx.ledger.entries(client_id)
        applied = await tx.payments.applied_to(invoice.id, "USD")
        [received] = await tx.payments.for_invoice(invoice.id)
    assert str(received.amount.amount) == "102.00"  # read back in minor units, as it was paid
    payments = [e.amount for e in entries if e.kind is EntryKind.PAYMENT]
    assert payments == [Money("-102.00")]  # 100 + 1.996, rounded once to the cent
    assert applied == Money("102.00")  # a pay link asks for the rest only
    assert await invoicing(uow, clock).verify() == []

    paid = await invoicing(uow, clock).mark_paid(invoice.id)

    async with uow() as tx:
        entries = await tx.ledger.entries(client_id)
        balance = await tx.ledger.balance(client_id, "USD")
    payments = sorted(e.amount.amount for e in entries if e.kind is EntryKind.PAYMENT)
    assert (paid.status, payments) == (InvoiceStatus.PAID, [Decimal("-102.00"), Decimal("-24.00")])
    assert balance == Money("0")
    assert await invoicing(uow, clock).verify() == []


async def test_a_prepaid_client_is_refused_an_account_credit_and_pointed_to_its_wallet(
    uow: UowFactory,
) -> None:
    """A credit would lower the receipt, not what the wallet drew: the client would lose it."""
    client_id, _ = await add_client(uow, FixedFee(Money("0.00")), tax="0")
    clock = FrozenClock(APRIL_START)
    invoices = InvoiceUseCases(uow, clock)
    earlier = await invoices.grant_credit(client_id, "5.00", "granted while postpaid")
    await prepaid(uow, client_id, clock)

    with pytest.raises(ValidationError, match="adjustWallet"):
        await invoices.grant_credit(client_id, "5.00", "sorry")

    assert [c.id for c in await invoices.credits(client_id)] == [earlier.id]
