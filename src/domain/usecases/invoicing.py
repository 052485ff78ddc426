"""Closing billing periods into invoices, and what may happen to an invoice afterwards.

Closing is one transaction per client: claim the (client, period) pair with a draft row (the
database's unique index decides a race: a second closer waits, then skips), take the client's
usage that is on no invoice and started before the period's end, compute the lines, take the
next number, finalize, post to the ledger, commit. A client that owes nothing rolls back, so
nothing is claimed or numbered. Running it twice, or from six processes at once, yields one
invoice per client and consecutive numbers.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.alerting.invoice_alerts import invoice_refused_alert
from domain.billing.clients import Client
from domain.billing.exchange import MissingRate
from domain.billing.money import Money, positive_minor_amount, sum_money
from domain.billing.periods import Period, month_period, period_containing
from domain.billing.plans import PlanTimeline
from domain.errors import Conflict, NotFound, PeriodNotEnded, ValidationError
from domain.ids import new_id
from domain.invoicing.conversion import convert_fixed
from domain.invoicing.invoices import (
    AccountCredit,
    BillingDetails,
    CreditNote,
    DraftInvoice,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    apply_credits,
    check_reason,
    compose_lines,
    document_number,
    owes_nothing,
    totals,
)
from domain.invoicing.ports import InvoiceClaim, InvoiceFilter
from domain.invoicing.postings import (
    conversion_entries,
    credit_entry,
    finalization_entries,
    payment_entry,
    void_entry,
)
from domain.invoicing.tax import TaxNotComputable
from domain.metering.usage import UsageRecord
from domain.ports import Clock, InvoicingUnitOfWork, InvoicingUnitOfWorkFactory
from domain.usecases.invoice_reads import (
    books_problems,
    client_conversions,
    draft_invoice,
    invoice_usage,
    revenue_of,
)
from domain.usecases.tax_terms import InvoiceTax, invoice_tax
from domain.usecases.wallet_receipts import paid_from_wallet, refuse_if_prepaid

INVOICE_PREFIX = "INV"
CREDIT_NOTE_PREFIX = "CN"
MAX_CATCH_UP = 24  # periods the automatic close looks back for unclosed ones

# Called in the finalizing transaction with each new invoice (invoice delivery queues its
# email there: usecases/invoice_mail.py), so the invoice and what follows it commit together.
FinalizedHook = Callable[[InvoicingUnitOfWork, Invoice], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class InvoiceTerms:
    due_days: int = 30
    grace: timedelta = timedelta(hours=24)  # after a period ends, before it closes by itself


@dataclass(frozen=True, slots=True)
class RefusedInvoice:
    """A client whose invoice could not be computed (no tax rate for its country ...): the
    close goes on for the others, an alert says so, and the next close retries it."""

    client_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CloseResult:
    period: Period
    created: tuple[Invoice, ...]  # the invoices this call finalized (none when run again)
    refused: tuple[RefusedInvoice, ...] = ()


class InvoiceUseCases:
    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        zone: ZoneInfo | None = None,
        terms: InvoiceTerms | None = None,
        reads: InvoicingUnitOfWorkFactory | None = None,
        on_finalized: FinalizedHook | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._on_finalized = on_finalized
        self._clock = clock
        self._zone = zone or ZoneInfo("UTC")
        self._terms = terms or InvoiceTerms()

    # ----------------------------------------------------------------------------- closing

    async def close_period(self, label: str, early: bool = False) -> CloseResult:
        """Finalize one invoice per client that owes something for the month `label`.
        A period that has not ended closes only with `early`; usage arriving afterwards goes
        on the next invoice as a prior-period line."""
        period = month_period(label, self._zone)
        now = self._clock.now()
        if now < period.start:
            raise ValidationError(f"{label} has not started: only a current or past month closes")
        if now < period.end and not early:
            raise PeriodNotEnded(f"{label} has not ended: close it early only on purpose")
        async with self._reads() as uow:
            clients = list(await uow.clients.list())
        # Concurrent closers (several processes) walk the clients in different orders, so they
        # share the work instead of queueing one behind another on each client's claim.
        random.shuffle(clients)
        created, refused = [], []
        for client in clients:
            try:
                invoice = await self._close_client(
                    client.id, period, now, early and now < period.end
                )
            except (TaxNotComputable, MissingRate) as error:
                refused.append(RefusedInvoice(client.id, str(error)))
                await self._alert_refused(client.id, period, str(error), now)
                continue
            if invoice is not None:
                created.append(invoice)
        async with self._uow() as uow:
            await uow.invoices.mark_closed(period.label, now, early and now < period.end)
            await uow.commit()
        return CloseResult(period, tuple(created), tuple(refused))

    async def _alert_refused(
        self, client_id: str, period: Period, reason: str, now: datetime
    ) -> None:
        alert = invoice_refused_alert(client_id, period.label, reason, now)
        async with self._uow() as uow:
            await uow.alerts.raise_once(alert)
            await uow.commit()

    async def close_due(self) -> list[CloseResult]:
        """Close every ended period (after the grace time) not closed yet, oldest first: what
        `bizgraph serve` runs now and then. Safe from several processes at once."""
        latest = period_containing(self._clock.now() - self._terms.grace, self._zone).previous()
        async with self._reads() as uow:
            clients = await uow.clients.list()
            if not clients:
                return []
            first = min(c.created_at for c in clients)
            due: list[Period] = []
            period = latest
            while period.end > first and len(due) < MAX_CATCH_UP:
                # A period closed early closes again after its end: clients that joined (or
                # owed nothing) then get their invoice; the others are skipped.
                if await uow.invoices.closed(period.label, after_its_end=True):
                    break
                due.append(period)
                period = period.previous()
        return [await self.close_period(p.label) for p in reversed(due)]

    async def _close_client(
        self, client_id: str, period: Period, now: datetime, early: bool
    ) -> Invoice | None:
        async with self._uow() as uow:
            client = await uow.clients.get(client_id)
            if client is None:
                return None
            claim = InvoiceClaim(new_id(), client.id, period, now)
            if not await uow.invoices.claim(claim):
                return None  # closed already (or by a concurrent closer)
            await uow.invoices.take_usage(claim.id, client.id, period.end)
            # usage in another currency converts at its day's rate (MissingRate: refused)
            conversions = await client_conversions(uow, client.currency)
            usage = await invoice_usage(uow, claim.id, period, self._zone, conversions)
            timeline = PlanTimeline(await uow.plans.history(client.id))
            fixed = convert_fixed(timeline.fixed_charges(period), period, conversions)
            settled = await uow.settlements.take_billed(claim.id, client.id)
            lines = compose_lines(period, usage, fixed, client.currency, settled)
            if owes_nothing(lines):
                return None  # rolled back: no invoice, the usage stays free
            tax = await invoice_tax(uow, client, claim.created_at.astimezone(self._zone).date())
            credits = await uow.invoices.available_credits(client.id)
            lines, uses = apply_credits(lines, credits, client.currency)
            invoice = await self._finalized(uow, claim, client, lines, early, tax)
            invoice = replace(invoice, rates=conversions.applied())
            await uow.invoices.finalize(invoice)
            await uow.invoices.use_credits(invoice.id, uses)
            for entry in [*finalization_entries(invoice), *conversion_entries(invoice)]:
                await uow.ledger.append(entry)
            if await uow.wallets.get(client.id) is not None:
                invoice = await paid_from_wallet(uow, invoice, now)
            if self._on_finalized is not None:
                await self._on_finalized(uow, invoice)
            await uow.commit()
            return invoice

    async def _finalized(
        self,
        uow: InvoicingUnitOfWork,
        claim: InvoiceClaim,
        client: Client,
        lines: Sequence[InvoiceLine],
        early: bool,
        tax: InvoiceTax,
    ) -> Invoice:
        rate = tax.applied.rate
        sums = totals(lines, rate, client.currency)
        terms = tax.agency.payment_terms_days if tax.agency else None
        due_days = self._terms.due_days if terms is None else terms
        number = await self._number(uow, INVOICE_PREFIX, claim.created_at)
        return Invoice(
            id=claim.id,
            client_id=client.id,
            period=claim.period,
            number=number,
            status=InvoiceStatus.FINALIZED,
            currency=client.currency,
            tax_rate=rate,
            lines=tuple(lines),
            subtotal=sums.subtotal,
            tax=sums.tax,
            total=sums.total,
            issued_at=claim.created_at,
            due_at=claim.created_at + timedelta(days=due_days),
            bill_to=BillingDetails(client.name, client.billing_email),
            early=early,
            issued=tax.issued,
        )

    async def _number(self, uow: InvoicingUnitOfWork, prefix: str, at: datetime) -> str:
        year = at.astimezone(self._zone).year
        sequence = await uow.invoices.next_number(f"{prefix}-{year:04d}")
        return document_number(prefix, year, sequence)

    # ------------------------------------------------------------------- after finalizing

    async def mark_paid(self, invoice_id: str) -> Invoice:
        """finalized -> paid, posting the payment; asking again for a paid one is a no-op."""
        now = self._clock.now()
        async with self._uow() as uow:
            invoice = await self._require(uow, invoice_id)
            if invoice.status is InvoiceStatus.PAID:
                return invoice
            if await uow.invoices.change_status(invoice.id, InvoiceStatus.PAID, now):
                # what payments through a processor applied already is posted: only the rest
                paid_before = await uow.payments.applied_to(invoice.id, invoice.currency)
                await uow.ledger.append(payment_entry(invoice, now, paid_before))
                await uow.commit()
        paid = await self.get(invoice_id)  # a concurrent call may have paid it meanwhile
        if paid.status is not InvoiceStatus.PAID:
            raise Conflict(f"invoice {paid.number} is {paid.status}: it cannot be paid")
        return paid

    async def void(self, invoice_id: str, reason: str) -> Invoice:
        """finalized -> void with a reason: its usage returns to unbilled and the period can
        be closed again for a replacement (with a new number). A paid invoice is corrected with
        a credit note instead."""
        why = check_reason(reason, "voiding an invoice")
        now = self._clock.now()
        async with self._uow() as uow:
            invoice = await self._require(uow, invoice_id)
            if invoice.status is InvoiceStatus.VOID:
                return invoice
            if await uow.invoices.change_status(invoice.id, InvoiceStatus.VOID, now, why):
                await uow.invoices.release_usage(invoice.id)
                await uow.settlements.release(invoice.id)
                await uow.ledger.append(void_entry(invoice, now))
                for entry in conversion_entries(invoice, voided_at=now):
                    await uow.ledger.append(entry)
                await uow.commit()
        voided = await self.get(invoice_id)  # a concurrent call may have voided it meanwhile
        if voided.status is not InvoiceStatus.VOID:
            raise Conflict(f"invoice {voided.number} is {voided.status}: it cannot be void")
        return voided

    async def issue_credit_note(
        self, invoice_id: str, amount: Decimal | str, reason: str
    ) -> CreditNote:
        """A numbered credit note against a finalized or paid invoice, at most what is left of
        its total after earlier credit notes (checked under a lock on the invoice)."""
        why = check_reason(reason, "a credit note")
        now = self._clock.now()
        async with self._uow() as uow:
            invoice = await self._require(uow, invoice_id, for_update=True)
            value = positive_minor_amount(amount, invoice.currency, "a credit note")
            if invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.PAID):
                raise Conflict(f"invoice {invoice.number} is {invoice.status}: nothing to credit")
            earlier = await uow.invoices.credit_notes(invoice.id)
            left = invoice.total - sum_money([n.amount for n in earlier], invoice.currency)
            if left < value:
                raise ValidationError(f"at most {left} is left to credit on {invoice.number}")
            number = await self._number(uow, CREDIT_NOTE_PREFIX, now)
            note = CreditNote(new_id(), invoice.id, invoice.client_id, number, value, why, now)
            await uow.invoices.add_credit_note(note)
            await uow.ledger.append(credit_entry(note))
            await uow.commit()
        return note

    async def draft(self, client_id: str, label: str) -> DraftInvoice:
        """The invoice closing `label` would finalize for the client now (nothing written)."""
        period = month_period(label, self._zone)
        async with self._reads() as uow:
            on = self._clock.now().astimezone(self._zone).date()
            return await draft_invoice(uow, client_id, period, self._zone, on)

    async def grant_credit(
        self, client_id: str, amount: Decimal | str, reason: str
    ) -> AccountCredit:
        """An account credit in the client's currency, applied as a negative line on its next
        invoices (never taking one below zero; the rest carries over). A prepaid client is
        refused: its wallet is credited instead (docs/wallets.md)."""
        why = check_reason(reason, "a credit")
        async with self._uow() as uow:
            client = await uow.clients.get(client_id)
            if client is None:
                raise NotFound(f"no client {client_id}")
            value = positive_minor_amount(amount, client.currency, "a credit")
            await refuse_if_prepaid(uow, client.id)
            now = self._clock.now()
            credit = AccountCredit(new_id(), client.id, value, why, now, value)
            await uow.invoices.grant_credit(credit)
            await uow.commit()
        return credit

    async def credits(self, client_id: str) -> Sequence[AccountCredit]:
        """The client's credits with something left to apply, oldest first."""
        async with self._reads() as uow:
            return await uow.invoices.available_credits(client_id)

    async def _require(
        self, uow: InvoicingUnitOfWork, invoice_id: str, *, for_update: bool = False
    ) -> Invoice:
        invoice = await uow.invoices.get(invoice_id, for_update=for_update)
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}")
        return self._local(invoice)

    def _local(self, invoice: Invoice) -> Invoice:
        """The period in the agency's zone (the store keeps its bounds in UTC), so dates on
        documents are the agency's."""
        return replace(invoice, period=month_period(invoice.period.label, self._zone))

    # ------------------------------------------------------------------------------ reads

    async def get(self, invoice_id: str) -> Invoice:
        async with self._reads() as uow:
            return await self._require(uow, invoice_id)

    async def find(self, where: InvoiceFilter) -> Sequence[Invoice]:
        if where.period is not None:
            month_period(where.period, self._zone)  # a clear error for a malformed label
        async with self._reads() as uow:
            found = await uow.invoices.find(where)
        return [self._local(invoice) for invoice in found]

    async def credit_notes(self, invoice_id: str) -> Sequence[CreditNote]:
        async with self._reads() as uow:
            return await uow.invoices.credit_notes(invoice_id)

    async def usage_behind(self, invoice_id: str) -> Sequence[UsageRecord]:
        async with self._reads() as uow:
            await self._require(uow, invoice_id)
            return await uow.invoices.usage_records(invoice_id)

    async def client_of(self, invoice: Invoice) -> Client | None:
        async with self._reads() as uow:
            return await uow.clients.get(invoice.client_id)

    async def in_closed_period(self, instant: datetime) -> bool:
        """Whether the instant lies in a closed period or before one (a plan version may not
        start there: product.md)."""
        async with self._reads() as uow:
            latest = await uow.invoices.latest_closed()
        return latest is not None and period_containing(instant, self._zone).label <= latest

    async def invoiced_revenue(
        self, period: Period, client_ids: Sequence[str]
    ) -> dict[str, Money] | None:
        """For a closed period: each client's revenue, the sum of its live invoices' subtotals
        (clients without one: absent). None while the period is open."""
        async with self._reads() as uow:
            if not await uow.invoices.closed(period.label):
                return None
            found = await uow.invoices.find(InvoiceFilter(list(client_ids), period.label))
        return revenue_of(found)

    # ----------------------------------------------------------------------------- checks

    async def verify(self) -> list[str]:
        """The problems `bizgraph ledger verify` reports (none: the books are consistent)."""
        async with self._reads() as uow:
            return await books_problems(uow, self._zone)
