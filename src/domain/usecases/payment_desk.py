"""Payments as one principal may use them: anyone who may see an invoice may get its pay
link (a portal token its own client's); without Stripe configured every answer says so. A
wallet top-up page is started by the wallets (WalletDesk.start_top_up, in the wallet's
currency) through the TopUpCheckout port."""

from __future__ import annotations

from collections.abc import Sequence

from domain.access.principals import Principal
from domain.billing.money import Money
from domain.errors import ValidationError
from domain.payments.received import Received
from domain.usecases.invoice_desk import InvoiceDesk
from domain.usecases.payments import PaymentUseCases


class PaymentsOff(ValidationError):
    code = "payments_not_configured"


class PaymentDesk:
    def __init__(
        self, principal: Principal, payments: PaymentUseCases | None, invoices: InvoiceDesk
    ) -> None:
        self._principal = principal
        self._payments = payments
        self._invoices = invoices

    @property
    def enabled(self) -> bool:
        return self._payments is not None

    def _required(self) -> PaymentUseCases:
        if self._payments is None:
            raise PaymentsOff("payments through Stripe are not configured")
        return self._payments

    async def pay_link(self, invoice_id: str) -> str | None:
        """The invoice's pay link; None when payments are off or nothing is open."""
        invoice = await self._invoices.get(invoice_id)  # NotFound unless visible
        if self._payments is None:
            return None
        return await self._payments.pay_link(invoice.id)

    async def open_balance(self, invoice_id: str) -> Money:
        invoice = await self._invoices.get(invoice_id)
        if self._payments is None:
            return (
                invoice.total
                if invoice.status.value == "finalized"
                else Money.zero(invoice.currency)
            )
        return await self._payments.open_balance(invoice)

    async def received(self, invoice_id: str) -> Sequence[Received]:
        invoice = await self._invoices.get(invoice_id)
        if self._payments is None:
            return []
        return await self._payments.payments_of(invoice.id)
