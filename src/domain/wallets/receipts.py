"""A prepaid client's monthly invoice is a receipt: the usage and fixed amounts it lists were
paid from the wallet as they happened, so it is finalized paid, its payment posted with
"wallet" as the payment's reference (the books stay in one format for both modes)."""

from __future__ import annotations

from datetime import datetime

from domain.ids import new_id
from domain.invoicing.invoices import Invoice
from domain.invoicing.ledger import EntryKind, LedgerEntry

WALLET_PAYMENT = "wallet"  # the payment reference of an invoice paid from the wallet


def wallet_payment_entry(invoice: Invoice, at: datetime) -> LedgerEntry:
    """As postings.payment_entry (one payment per invoice: referenced by its id)."""
    return LedgerEntry(
        new_id(),
        invoice.client_id,
        EntryKind.PAYMENT,
        -invoice.total,
        at,
        invoice.id,
        f"{invoice.number}: paid from the prepaid wallet (payment reference {WALLET_PAYMENT})",
    )
