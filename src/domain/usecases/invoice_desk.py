"""Invoicing as one principal may use it: staff see every client's invoices, a portal token
only its own client's (an invoice of another client is "not found", like an unknown id);
closing, voiding, payments and credit notes need a role that may write (owner or admin)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from domain.access.principals import NotAllowed, Principal
from domain.errors import NotFound
from domain.invoicing.invoices import (
    AccountCredit,
    CreditNote,
    DraftInvoice,
    Invoice,
    InvoiceStatus,
)
from domain.invoicing.ports import AgencyDetails, InvoiceDocument, InvoiceFilter, InvoiceRenderer
from domain.payments.ports import PaymentLinks
from domain.payments.processor import ProcessorUnavailable
from domain.usecases.invoicing import CloseResult, InvoiceUseCases


class DocumentFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"


MEDIA_TYPES = MappingProxyType(
    {
        DocumentFormat.HTML: "text/html; charset=utf-8",
        DocumentFormat.PDF: "application/pdf",
        DocumentFormat.CSV: "text/csv; charset=utf-8",
    }
)


@dataclass(frozen=True, slots=True)
class Documents:
    renderer: InvoiceRenderer
    agency: AgencyDetails
    links: PaymentLinks | None = None  # Stripe pay links on open invoices, when configured
    # How long a document waits for its pay link to be made: past it, the document renders
    # without one (the portal's Pay button asks again) instead of hanging on a slow Stripe.
    link_wait_seconds: float = 3.0


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str
    filename: str


class InvoiceDesk:
    def __init__(
        self, principal: Principal, invoices: InvoiceUseCases, documents: Documents
    ) -> None:
        self._principal = principal
        self._invoices = invoices
        self._documents = documents

    def _require_write(self) -> None:
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change invoices (owner or admin only)")

    async def list(
        self, client_id: str | None, period: str | None, status: InvoiceStatus | None
    ) -> Sequence[Invoice]:
        own = self._principal.client_id
        if own is not None and client_id not in (None, own):
            return []
        ids = [own] if own is not None else [client_id] if client_id is not None else None
        return await self._invoices.find(InvoiceFilter(ids, period, status))

    async def get(self, invoice_id: str) -> Invoice:
        try:
            invoice = await self._invoices.get(invoice_id)
        except NotFound:
            invoice = None
        if invoice is None or not self._principal.may_see_client(invoice.client_id):
            raise NotFound(f"no invoice {invoice_id}")
        return invoice

    async def credit_notes(self, invoice_id: str) -> Sequence[CreditNote]:
        invoice = await self.get(invoice_id)
        return await self._invoices.credit_notes(invoice.id)

    async def close_period(self, period: str, early: bool) -> CloseResult:
        self._require_write()
        return await self._invoices.close_period(period, early)

    async def void(self, invoice_id: str, reason: str) -> Invoice:
        self._require_write()
        return await self._invoices.void((await self.get(invoice_id)).id, reason)

    async def mark_paid(self, invoice_id: str) -> Invoice:
        self._require_write()
        return await self._invoices.mark_paid((await self.get(invoice_id)).id)

    async def issue_credit_note(self, invoice_id: str, amount: str, reason: str) -> CreditNote:
        self._require_write()
        return await self._invoices.issue_credit_note(
            (await self.get(invoice_id)).id, amount, reason
        )

    async def grant_credit(self, client_id: str, amount: str, reason: str) -> AccountCredit:
        self._require_write()
        self._visible(client_id)
        return await self._invoices.grant_credit(client_id, amount, reason)

    async def draft(self, client_id: str, period: str) -> DraftInvoice | None:
        """None for a client this principal may not see (as for an unknown one); a Conflict
        when the period is invoiced for the client already."""
        if not self._principal.may_see_client(client_id):
            return None
        try:
            return await self._invoices.draft(client_id, period)
        except NotFound:
            return None

    async def credits(self, client_id: str) -> Sequence[AccountCredit]:
        if not self._principal.may_see_client(client_id):
            return []  # as for an unknown client
        return await self._invoices.credits(client_id)

    def _visible(self, client_id: str) -> None:
        if not self._principal.may_see_client(client_id):
            raise NotFound(f"no client {client_id}")

    async def render(self, invoice_id: str, fmt: DocumentFormat) -> Rendered:
        invoice = await self.get(invoice_id)
        renderer = self._documents.renderer
        name = f"{invoice.number}.{fmt.value}"
        if fmt is DocumentFormat.CSV:
            records = await self._invoices.usage_behind(invoice.id)
            body = renderer.usage_csv(invoice, records).encode()
            return Rendered(body, MEDIA_TYPES[fmt], name)
        notes = await self._invoices.credit_notes(invoice.id)
        pay_url = await self._pay_url(invoice)
        document = InvoiceDocument(invoice, self._documents.agency, notes, pay_url)
        if fmt is DocumentFormat.PDF:
            return Rendered(renderer.pdf(document), MEDIA_TYPES[fmt], name)
        return Rendered(renderer.html(document).encode(), MEDIA_TYPES[fmt], name)

    async def _pay_url(self, invoice: Invoice) -> str | None:
        """The pay link of an open invoice; none when Stripe is off or unreachable (the
        document renders all the same)."""
        links = self._documents.links
        if links is None or invoice.status is not InvoiceStatus.FINALIZED:
            return None
        try:
            async with asyncio.timeout(self._documents.link_wait_seconds):
                return await links.link_for(invoice.id)
        except (ProcessorUnavailable, NotFound, TimeoutError):
            # A session Stripe made after the wait is found again by its idempotency key.
            return None
