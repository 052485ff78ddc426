"""Invoice delivery and dunning as one principal may use them: sending and resending need a
role that may write (owner or admin); the delivery history and the overdue list are read by
anyone who may see the invoice (a portal token: its own client's only)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.access.principals import NotAllowed, Principal
from domain.delivery.outbox import EmailNotConfigured, InvoiceMail
from domain.usecases.dunning import Dunning, OverdueInvoice
from domain.usecases.invoice_desk import InvoiceDesk
from domain.usecases.invoice_mail import NOT_CONFIGURED, EmailStatus, InvoiceMailing


class DeliveryDesk:
    def __init__(
        self,
        principal: Principal,
        invoices: InvoiceDesk,
        mailing: InvoiceMailing | None,
        dunning: Dunning | None,
    ) -> None:
        self._principal = principal
        self._invoices = invoices
        self._mailing = mailing
        self._dunning = dunning

    def email_status(self) -> EmailStatus:
        if self._mailing is None:
            return EmailStatus(False, NOT_CONFIGURED, False)
        return self._mailing.status()

    async def send(self, invoice_id: str, *, resend: bool) -> InvoiceMail:
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not send invoices (owner or admin only)")
        invoice = await self._invoices.get(invoice_id)  # not found unless visible
        if self._mailing is None:
            raise EmailNotConfigured(NOT_CONFIGURED)
        return await self._mailing.send(invoice.id, resend=resend, by=self._principal.name)

    async def history(self, invoice_id: str) -> Sequence[InvoiceMail]:
        invoice = await self._invoices.get(invoice_id)
        if self._mailing is None:
            return []
        return await self._mailing.history(invoice.id)

    async def overdue(self, client_id: str | None) -> Sequence[OverdueInvoice]:
        if self._dunning is None:
            return []
        own = self._principal.client_id
        if own is not None and client_id not in (None, own):
            return []
        if client_id is not None and not self._principal.may_see_client(client_id):
            return []
        ids = [own] if own is not None else [client_id] if client_id is not None else None
        return await self._dunning.overdue(ids)
