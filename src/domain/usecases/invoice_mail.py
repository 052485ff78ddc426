"""Invoices delivered by email through an outbox, as alerts are delivered to webhooks.

A message is queued in the transaction that decides it (the finalizing one, an operator's
send, a dunning run), then `deliver_due` claims due messages under a lease, renders the PDF,
asks for the pay link, sends outside any transaction and records the outcome: sent, retried
with backoff, or failed after the last attempt. A process dying between sending and recording
leaves its lease to expire and the message is sent again: at-least-once. A client without a
billing email gets a row saying so, shown on the invoice, instead of nothing."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.alerting.webhooks import RetryPolicy, SendResult
from domain.billing.periods import month_period
from domain.delivery.dunning import DunningPolicy, suspension_date
from domain.delivery.messages import InvoiceEmail, check_address, compose
from domain.delivery.outbox import (
    EmailNotConfigured,
    InvoiceMail,
    MailKind,
    MailStatus,
    after_attempt,
)
from domain.delivery.ports import InvoiceMailer
from domain.errors import Conflict, NotFound, ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import Invoice, InvoiceStatus
from domain.invoicing.ports import InvoiceDocument
from domain.payments.ports import PaymentLinks
from domain.ports import Clock, InvoicingUnitOfWork, InvoicingUnitOfWorkFactory
from domain.usecases.invoice_desk import Documents

log = logging.getLogger("bizgraph.invoice_mail")

NOT_CONFIGURED = "SMTP is not configured (set BIZGRAPH_SMTP_HOST): invoices cannot be emailed"
HISTORY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class EmailStatus:
    enabled: bool
    reason: str | None  # why not, when not enabled
    auto_send: bool  # finalized invoices are emailed by themselves


@dataclass(frozen=True, slots=True)
class MailTerms:
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(minutes=2)  # longer than one SMTP attempt can take
    auto_send: bool = True  # BIZGRAPH_INVOICE_EMAIL=auto (with SMTP configured)
    batch: int = 20
    # for the suspension date that warnings give
    dunning: DunningPolicy = field(default_factory=DunningPolicy)


def invoice_key(invoice_id: str) -> str:
    return f"invoice:{invoice_id}"


class InvoiceMailing:
    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        documents: Documents,
        mailer: InvoiceMailer | None,
        *,
        links: PaymentLinks | None = None,
        terms: MailTerms | None = None,
        zone: ZoneInfo | None = None,
        reads: InvoicingUnitOfWorkFactory | None = None,
        spread: Callable[[], float] = random.random,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._documents = documents
        self._mailer = mailer
        self._links = links
        self._terms = terms or MailTerms()
        self._zone = zone or ZoneInfo("UTC")
        self._spread = spread

    @property
    def enabled(self) -> bool:
        return self._mailer is not None

    def status(self) -> EmailStatus:
        if self._mailer is None:
            return EmailStatus(False, NOT_CONFIGURED, False)
        return EmailStatus(True, None, self._terms.auto_send)

    # ------------------------------------------------------------------------- queueing

    async def queue(
        self,
        uow: InvoicingUnitOfWork,
        invoice: Invoice,
        kind: MailKind,
        key: str,
        *,
        days_overdue: int | None = None,
        requested_by: str | None = None,
    ) -> InvoiceMail | None:
        """Add a message to the outbox inside the caller's transaction; None when one with
        this key exists already. The recipient is the client's billing email now (else the
        one on the invoice); without one the row is stored as `no_billing_email`."""
        client = await uow.clients.get(invoice.client_id)
        address = (client.billing_email if client else None) or invoice.bill_to.email
        now = self._clock.now()
        mail = InvoiceMail(
            id=new_id(),
            invoice_id=invoice.id,
            client_id=invoice.client_id,
            kind=kind,
            dedupe_key=key,
            recipient=None,
            created_at=now,
            next_attempt_at=now,
            days_overdue=days_overdue,
            requested_by=requested_by,
        )
        if address is None or not address.strip():
            mail = replace(mail, status=MailStatus.NO_BILLING_EMAIL)
        else:
            try:
                mail = replace(mail, recipient=check_address(address))
            except ValidationError:
                mail = replace(
                    mail,
                    status=MailStatus.NO_BILLING_EMAIL,
                    last_error="the client's billing email is not a single address",
                )
        if not await uow.invoice_mails.add(mail):
            return None
        if mail.status is MailStatus.NO_BILLING_EMAIL:
            log.warning("invoice %s: not emailed, its client has no billing email", invoice.number)
        return mail

    async def finalized(self, uow: InvoicingUnitOfWork, invoice: Invoice) -> None:
        """Closing's hook, in the finalizing transaction: queue the invoice when auto-send
        is on and SMTP configured."""
        if self._mailer is not None and self._terms.auto_send:
            await self.queue(uow, invoice, MailKind.INVOICE, invoice_key(invoice.id))

    async def send(
        self, invoice_id: str, *, resend: bool = False, by: str | None = None
    ) -> InvoiceMail:
        """Queue the invoice's email on demand. `send` is once per invoice (a Conflict when it
        went out or is queued already: ask for a resend); `resend` always queues another."""
        if self._mailer is None:
            raise EmailNotConfigured(NOT_CONFIGURED)
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id)
            if invoice is None:
                raise NotFound(f"no invoice {invoice_id}")
            if invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.PAID):
                raise Conflict(f"invoice {invoice.number} is {invoice.status}: not sent")
            key = f"resend:{invoice.id}:{new_id()}" if resend else invoice_key(invoice.id)
            mail = await self.queue(uow, invoice, MailKind.INVOICE, key, requested_by=by)
            if mail is None:
                raise Conflict(f"invoice {invoice.number} was emailed already: resend it")
            await uow.commit()
        return mail

    async def history(self, invoice_id: str, limit: int = HISTORY_LIMIT) -> Sequence[InvoiceMail]:
        async with self._reads() as uow:
            return await uow.invoice_mails.for_invoice(invoice_id, limit)

    # ------------------------------------------------------------------------- delivery

    async def deliver_due(self) -> int:
        """Claim the due messages, send each, record each outcome: the attempts made."""
        if self._mailer is None:
            return 0
        now = self._clock.now()
        async with self._reads() as peek:  # most cycles find nothing: no write lock for that
            if not await peek.invoice_mails.any_due(now):
                return 0
        claim = new_id()
        async with self._uow() as uow:
            claimed = await uow.invoice_mails.claim_due(
                now, now + self._terms.lease, claim, self._terms.batch
            )
            await uow.commit()
        outcomes = await asyncio.gather(
            *(self._attempt(self._mailer, mail, claim) for mail in claimed),
            return_exceptions=True,
        )
        for mail, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, Exception):  # left claimed: the lease expires, tried again
                log.error("invoice mail %s failed unexpectedly", mail.id, exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        return len(claimed)

    async def _attempt(self, mailer: InvoiceMailer, mail: InvoiceMail, claim: str) -> None:
        email, cancelled = await self._message(mail)
        if cancelled:
            outcome = replace(mail, status=MailStatus.CANCELLED, last_error=cancelled)
        else:
            assert email is not None  # a message, unless cancelled
            try:
                result = await mailer.send(email)
            except Exception as exc:  # a mailer's bug: still an attempt, recorded as failed
                log.error("invoice mail %s: the mailer failed", mail.id, exc_info=exc)
                result = SendResult(error=f"unexpected error ({type(exc).__name__})")
            outcome = after_attempt(
                mail, result, self._clock.now(), self._terms.policy, self._spread()
            )
        async with self._uow() as uow:
            recorded = await uow.invoice_mails.record(outcome, claim)
            await uow.commit()
        if not recorded:
            log.warning("invoice mail %s: lease lost before recording; sent again", mail.id)
        elif outcome.status is not MailStatus.SENT:
            log.info(
                "invoice mail %s attempt %d: %s (%s)",
                mail.id,
                outcome.attempts,
                outcome.status.value,
                outcome.last_error,
            )

    async def _message(self, mail: InvoiceMail) -> tuple[InvoiceEmail | None, str | None]:
        """The email to send, or why it is no longer sent (a reminder of a paid invoice)."""
        async with self._reads() as uow:
            invoice = await uow.invoices.get(mail.invoice_id)
            if invoice is None:
                return None, "the invoice no longer exists"
            notes = await uow.invoices.credit_notes(invoice.id)
        if mail.kind is not MailKind.INVOICE and invoice.status is not InvoiceStatus.FINALIZED:
            return None, f"the invoice is {invoice.status.value}: no reminder needed"
        invoice = replace(invoice, period=month_period(invoice.period.label, self._zone))
        document = InvoiceDocument(invoice, self._documents.agency, notes)
        pdf = await asyncio.to_thread(self._documents.renderer.pdf, document)
        link = await self._pay_link(invoice)
        subject, text, html = compose(
            mail.kind,
            invoice,
            self._documents.agency.name,
            link,
            days_overdue=mail.days_overdue,
            suspend_on=suspension_date(invoice, self._terms.dunning),
        )
        assert mail.recipient is not None  # only pending rows are claimed: they have one
        email = InvoiceEmail(
            mail.recipient, subject, text, html, f"{invoice.number}.pdf", pdf, mail.id
        )
        return email, None

    async def _pay_link(self, invoice: Invoice) -> str | None:
        """The processor's link for a finalized invoice (None when payments are off or the
        processor cannot give one now: the email goes without it rather than not at all)."""
        if self._links is None or invoice.status is not InvoiceStatus.FINALIZED:
            return None
        try:
            return await self._links.link_for(invoice.id)
        except Exception:
            log.warning("invoice %s: no pay link (the processor failed)", invoice.number)
            return None
