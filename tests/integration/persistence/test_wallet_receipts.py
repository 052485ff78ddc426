"""A prepaid client's monthly invoice on SQLite and PostgreSQL: the same lines as a postpaid
one, finalized paid from the wallet (a receipt, nothing left to pay), and the books verify."""

from __future__ import annotations

from datetime import timedelta

from domain.billing.money import Money
from domain.billing.plans import FixedFee
from domain.invoicing.invoices import InvoiceStatus, LineKind
from domain.invoicing.ledger import EntryKind
from domain.usecases.wallets import WalletUseCases
from domain.wallets.wallets import BillingMode
from tests.fakes import FrozenClock
from tests.integration.persistence.test_invoices import (
    AFTER_APRIL,
    APRIL_START,
    UowFactory,
    add_client,
    call,
    invoicing,
)


async def test_a_prepaid_clients_invoice_is_a_paid_receipt(uow: UowFactory) -> None:
    prepaid, key = await add_client(uow, FixedFee(Money("100.00")), tax="0")
    postpaid, other_key = await add_client(uow, FixedFee(Money("100.00")), tax="0")
    clock = FrozenClock(APRIL_START)
    await WalletUseCases(uow, clock).set_mode(prepaid, BillingMode.PREPAID, "ops")
    for client_id, key_id in ((prepaid, key), (postpaid, other_key)):
        await call(uow, client_id, key_id, APRIL_START + timedelta(days=3), "1.25")
    clock.set(AFTER_APRIL)

    created = (await invoicing(uow, clock).close_period("2026-04")).created

    by_client = {invoice.client_id: invoice for invoice in created}
    receipt, invoice = by_client[prepaid], by_client[postpaid]
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
        entries = await tx.ledger.entries(prepaid)
        balance = await tx.ledger.balance(prepaid, "USD")
    payments = [e for e in entries if e.kind is EntryKind.PAYMENT]
    assert [p.amount for p in payments] == [Money("-101.25")]
    assert "prepaid wallet" in payments[0].description
    assert balance == Money("0")  # nothing due
    assert await invoicing(uow, clock).verify() == []
    assert await invoicing(uow, clock).mark_paid(receipt.id) == stored  # a no-op
