"""What a client's wallet paid toward its monthly invoice.

A prepaid client's invoice lists the usage and fixed amounts as a postpaid one does (the books
stay in one format). What the wallet drew for them as they happened (the calls the invoice
took, the period's fixed amounts) is posted at closing as a part payment: rounded once to the
minor unit, at most the total. When it covers the total the invoice is a receipt, finalized
paid; what it does not cover stays due like any invoice: the tax (a wallet draws the charge
before tax), usage from before the client became prepaid, or the cents rounding put on the
lines. The same holds for a client that left prepaid mid-period: its invoice is not charged
twice for what the wallet paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.billing.money import Money, round_to_minor
from domain.ids import new_id
from domain.invoicing.invoices import Invoice
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.payments.received import Movement, Received

WALLET_PAYMENT = "wallet"  # the payment reference of an invoice paid from the wallet


def wallet_part(invoice: Invoice, drawn: Decimal) -> Money:
    """The part of the invoice's total the wallet's draws pay: rounded once, at most it."""
    paid = Money(round_to_minor(drawn, invoice.currency), invoice.currency)
    return invoice.total if invoice.total <= paid else paid


def wallet_payment_entry(invoice: Invoice, part: Money, at: datetime) -> LedgerEntry:
    """A part payment (reference `<invoice id>:wallet`, as a processor's parts are)."""
    paid = "paid" if part == invoice.total else f"{part.amount} {part.currency} paid"
    return LedgerEntry(
        new_id(),
        invoice.client_id,
        EntryKind.PAYMENT,
        -part,
        at,
        f"{invoice.id}:{WALLET_PAYMENT}",
        f"{invoice.number}: {paid} from the prepaid wallet (payment reference {WALLET_PAYMENT})",
    )


def wallet_received(invoice: Invoice, part: Money, at: datetime) -> Received:
    """The same part among the invoice's payments, so what is still owed (a pay link, marking
    it paid) counts it."""
    reference = f"{WALLET_PAYMENT}:{invoice.id}"
    return Received(
        id=new_id(),
        client_id=invoice.client_id,
        movement=Movement.PAYMENT,
        purpose=None,
        invoice_id=invoice.id,
        payment_ref=reference,
        charge_ref=None,
        dedupe=reference,
        amount=part,
        applied=part,
        occurred_at=at,
        event_id=reference,
    )
