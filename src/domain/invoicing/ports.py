"""Ports for invoicing: the invoice store, and a unit of work that holds it next to the others.

Every write here runs inside the caller's transaction, and the database decides races (a
unique live invoice per client and period, conditional status updates, a counter row taken
with an atomic increment), so closing is safe from several processes at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.billing.money import Money
from domain.billing.periods import Period
from domain.invoicing.invoices import (
    AccountCredit,
    CreditNote,
    CreditUse,
    Invoice,
    InvoiceStatus,
    UsageGroup,
)
from domain.invoicing.ledger import LedgerEntry
from domain.metering.estimate_settlements import EstimateSettlement
from domain.metering.usage import UsageRecord


@dataclass(frozen=True, slots=True)
class InvoiceClaim:
    """The draft row that reserves (client, period) inside a closing transaction."""

    id: str
    client_id: str
    period: Period
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    client_ids: Sequence[str] | None = None  # None: every client
    period: str | None = None
    status: InvoiceStatus | None = None


class InvoiceRepository(Protocol):
    async def claim(self, claim: InvoiceClaim) -> bool:
        """Insert a draft invoice for (client, period) unless a non-void one exists (then
        False, nothing written). Waits for a concurrent claim of the same pair to end."""
        ...

    async def take_usage(self, invoice_id: str, client_id: str, before: datetime) -> None:
        """Put every record of the client that started before `before` and is on no invoice
        onto this one (records committed later stay free for the next invoice)."""
        ...

    async def usage_groups(self, invoice_id: str, period: Period) -> Sequence[UsageGroup]:
        """The invoice's records that started in `period`, summed exactly per model."""
        ...

    async def unbilled_groups(self, client_id: str, period: Period) -> Sequence[UsageGroup]:
        """The client's records on no invoice that started in `period`, summed exactly per
        model (what a close would take now)."""
        ...

    async def unbilled_records(self, client_id: str, before: datetime) -> Sequence[UsageRecord]:
        """The client's records on no invoice that started before the instant, oldest first."""
        ...

    async def usage_records(
        self, invoice_id: str, started_before: datetime | None = None
    ) -> Sequence[UsageRecord]:
        """The invoice's records (only those started before the instant, when given), oldest
        first."""
        ...

    async def finalize(self, invoice: Invoice) -> None:
        """Write the lines and turn the claimed draft into the finalized invoice. After
        this the database refuses any change to its amounts and lines."""
        ...

    async def next_number(self, counter: str) -> int:
        """Increment and return the named counter (1 first); held until the transaction ends,
        and rolled back with it, so numbers have no gaps."""
        ...

    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        """An invoice with its lines (`for_update` locks its row until the transaction ends)."""
        ...

    async def find(self, where: InvoiceFilter) -> Sequence[Invoice]:
        """Invoices with their lines, newest period first, then by number."""
        ...

    async def change_status(
        self, invoice_id: str, status: InvoiceStatus, at: datetime, reason: str | None = None
    ) -> bool:
        """finalized -> paid or void, only from finalized (False when it was not)."""
        ...

    async def release_usage(self, invoice_id: str) -> None:
        """Free the records of a voided invoice for the next invoice of their client."""
        ...

    async def uninvoiced_charge(self, client_id: str, currency: str) -> Money:
        """The exact sum of the client's usage charges that are on no invoice."""
        ...

    async def add_credit_note(self, note: CreditNote) -> None: ...
    async def grant_credit(self, credit: AccountCredit) -> None:
        """Store an account credit (NotFound for an unknown client)."""
        ...

    async def available_credits(self, client_id: str) -> Sequence[AccountCredit]:
        """The client's credits with something left (uses on void invoices do not count),
        oldest first; locked until the transaction ends."""
        ...

    async def use_credits(self, invoice_id: str, uses: Sequence[CreditUse]) -> None:
        """Record what an invoice took of each credit (in the finalizing transaction)."""
        ...

    async def credit_notes(self, invoice_id: str) -> Sequence[CreditNote]: ...
    async def mark_closed(self, label: str, at: datetime, early: bool) -> None:
        """Remember that a period was closed (idempotent; a close after its end clears the
        `early` mark of an earlier close)."""
        ...

    async def closed(self, label: str, *, after_its_end: bool = False) -> bool:
        """Whether the period was closed (only by a close after its end, when asked)."""
        ...

    async def latest_closed(self) -> str | None:
        """The label of the latest closed period, if any."""
        ...


@dataclass(frozen=True, slots=True)
class AgencyDetails:
    """Who issues the invoices (from settings)."""

    name: str
    address: tuple[str, ...] = ()
    logo_url: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice: Invoice
    agency: AgencyDetails
    credit_notes: Sequence[CreditNote] = ()
    pay_url: str | None = None  # where the client pays it online (Stripe), while it is open


class InvoiceRenderer(Protocol):
    def html(self, document: InvoiceDocument) -> str:
        """A printable HTML page; every value from the database is escaped."""
        ...

    def pdf(self, document: InvoiceDocument) -> bytes:
        """The same invoice as a PDF: number, lines and totals as on the HTML page."""
        ...

    def usage_csv(self, invoice: Invoice, records: Sequence[UsageRecord]) -> str:
        """The usage records behind an invoice, amounts as exact decimal strings."""
        ...


class LedgerRepository(Protocol):
    async def append(self, entry: LedgerEntry) -> bool:
        """Append; False (and nothing written) if (client_id, kind, reference) exists.
        Entries are never updated or deleted."""
        ...

    async def entries(self, client_id: str) -> Sequence[LedgerEntry]: ...
    async def balance(self, client_id: str, currency: str) -> Money:
        """The exact sum of the client's entries in that currency."""
        ...


class SettlementRepository(Protocol):
    """Settlements of calls billed on an estimate (domain/metering/estimate_settlements.py)."""

    async def record(self, record_id: str, *, for_update: bool = False) -> UsageRecord | None:
        """The usage record with this id (locked on PostgreSQL with `for_update`)."""
        ...

    async def add(self, settlement: EstimateSettlement) -> bool:
        """Store it; False (nothing written) when the record is settled already."""
        ...

    async def for_records(self, record_ids: Sequence[str]) -> Sequence[EstimateSettlement]: ...

    async def estimated(
        self, start: datetime, end: datetime, providers: Sequence[str] | None, limit: int
    ) -> Sequence[UsageRecord]:
        """Every client's records flagged `estimated` (a cut stream's is `failed`, billed on
        its estimate), made with the agency's provider keys, that started in [start, end)
        (of `providers`, or of any when None), oldest first, at most `limit`."""
        ...

    async def take_billed(self, invoice_id: str, client_id: str) -> Sequence[EstimateSettlement]:
        """The client's billed settlements on no invoice, now on `invoice_id`."""
        ...

    async def pending_billed(self, client_id: str) -> Sequence[EstimateSettlement]:
        """The client's billed settlements on no invoice yet."""
        ...

    async def release(self, invoice_id: str) -> None:
        """A void invoice gives its settlements back to the next one."""
        ...
