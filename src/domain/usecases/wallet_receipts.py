"""A prepaid client's invoice paid from its wallet at closing (docs/wallets.md): what the
wallet drew toward it is posted as its part payment (domain/wallets/receipts.py); and what
would undo that (an account credit: it lowers the receipt, not what the wallet drew)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import ValidationError
from domain.invoicing.invoices import Invoice, InvoiceStatus
from domain.ports import InvoicingUnitOfWork
from domain.wallets.receipts import wallet_part, wallet_payment_entry, wallet_received


async def paid_from_wallet(uow: InvoicingUnitOfWork, invoice: Invoice, now: datetime) -> Invoice:
    """Posts what the wallet drew toward the invoice as its part payment; paid when that
    covers the total (a prepaid client's receipt: domain/wallets/receipts.py)."""
    drawn = await uow.wallets.drawn_toward(invoice.client_id, invoice.id, invoice.period.label)
    part = wallet_part(invoice, drawn)
    if part.amount <= 0:
        return invoice
    await uow.ledger.append(wallet_payment_entry(invoice, part, now))
    await uow.payments.add(wallet_received(invoice, part, now))
    if part != invoice.total:
        return invoice
    await uow.invoices.change_status(invoice.id, InvoiceStatus.PAID, now)
    return replace(invoice, status=InvoiceStatus.PAID, paid_at=now)


async def refuse_if_prepaid(uow: InvoicingUnitOfWork, client_id: str) -> None:
    """An account credit is refused a prepaid client: its wallet is credited instead."""
    wallet = await uow.wallets.get(client_id)
    if wallet is not None and wallet.prepaid:
        raise ValidationError(
            "this client is prepaid: its wallet pays its invoices, so give the credit "
            "to the wallet (adjustWallet, `bizgraph wallets adjust`)"
        )
