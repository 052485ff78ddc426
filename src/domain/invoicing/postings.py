"""What invoicing posts to the ledger, and the checks that the books add up.

A client's balance is what it owes: the exact charges of usage on no invoice yet, plus the
totals of finalized (unpaid) invoices, minus credit notes. Usage charges are posted per call;
finalizing posts each fixed line as a fee and one invoice entry for the rest (tax and the
rounding of the usage lines), so an invoice's entries add up to its total. A payment posts
-total (a processor's payments post their part each, `<invoice id>:<payment id>`, and the
invoice is paid once they reach its total; a refund or a dispute posts what is owed
again); a void posts the reversal of the invoice's own entries (its usage returns to unbilled,
and what was paid toward it stays to the client's good); a credit note posts -amount; an
account credit posts when an invoice applies it (a credit line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.billing.money import Money, exact_sum, sum_money
from domain.ids import new_id
from domain.invoicing.invoices import (
    CreditNote,
    Invoice,
    InvoiceStatus,
    LineKind,
    UsageGroup,
    tax_on,
)
from domain.invoicing.ledger import EntryKind, LedgerEntry

USAGE_KINDS = (LineKind.USAGE, LineKind.PRIOR_USAGE, LineKind.BYOK_USAGE)


def usage_exact(invoice: Invoice) -> Money:
    """The exact usage charges its usage lines took, as posted per call in the invoice's
    currency (converted lines were posted in their price's currency: `conversion_entries`)."""
    amounts = [
        line.exact_amount
        for line in invoice.lines
        if line.kind in USAGE_KINDS and line.source is None
    ]
    return Money(exact_sum(*amounts), invoice.currency)


def conversion_entries(invoice: Invoice, voided_at: datetime | None = None) -> list[LedgerEntry]:
    """Usage posted per call in another currency leaves that currency's balance when an
    invoice bills it converted (the invoice's own entries then post its converted lines, as
    rounded, in its currency); a void puts it back (docs/currencies.md)."""
    by_currency: dict[str, Money] = {}
    for line in invoice.lines:
        if line.source is not None:
            seen = by_currency.get(line.source.currency)
            by_currency[line.source.currency] = line.source if seen is None else seen + line.source
    entries = []
    for currency, amount in sorted(by_currency.items()):
        reference = f"{invoice.id}:fx:{currency}"
        text = f"{invoice.number}: usage in {currency} billed converted to {invoice.currency}"
        at, posted = invoice.issued_at, -amount
        if voided_at is not None:
            reference, text, at, posted = reference + ":void", text + " (void)", voided_at, amount
        entries.append(_entry(invoice, EntryKind.INVOICE, posted, reference, at, text))
    return entries


def _entry(
    invoice: Invoice, kind: EntryKind, amount: Money, reference: str, at: datetime, text: str
) -> LedgerEntry:
    return LedgerEntry(new_id(), invoice.client_id, kind, amount, at, reference, text)


def finalization_entries(invoice: Invoice) -> list[LedgerEntry]:
    """A fee per fixed line, a credit per credit line, and the invoice entry for the rest."""
    others = [line for line in invoice.lines if line.kind not in USAGE_KINDS]
    entries = [
        _entry(
            invoice,
            EntryKind.CREDIT if line.kind is LineKind.CREDIT else EntryKind.FEE,
            line.amount,
            f"{invoice.id}#{line.position}",
            invoice.issued_at,
            f"{invoice.number}: {line.description}",
        )
        for line in others
    ]
    fixed = sum_money([line.amount for line in others], invoice.currency)
    rest = invoice.total - usage_exact(invoice) - fixed
    text = f"{invoice.number}: tax and the rounding of usage lines"
    entries.append(_entry(invoice, EntryKind.INVOICE, rest, invoice.id, invoice.issued_at, text))
    return entries


def payment_entry(invoice: Invoice, at: datetime, paid_before: Money | None = None) -> LedgerEntry:
    """The payment of what is left of the total (earlier payments through a processor are
    posted with the reference `<invoice id>:<payment id>`)."""
    text = f"{invoice.number}: paid"
    rest = invoice.total - (paid_before or Money.zero(invoice.currency))
    return _entry(invoice, EntryKind.PAYMENT, -rest, invoice.id, at, text)


def void_entry(invoice: Invoice, at: datetime) -> LedgerEntry:
    reversal = -(invoice.total - usage_exact(invoice))
    text = f"{invoice.number}: void, its usage returns to unbilled"
    return _entry(invoice, EntryKind.INVOICE, reversal, f"{invoice.id}:void", at, text)


def credit_entry(note: CreditNote) -> LedgerEntry:
    return LedgerEntry(
        new_id(),
        note.client_id,
        EntryKind.CREDIT,
        -note.amount,
        note.issued_at,
        note.id,
        f"{note.number}: {note.reason}",
    )


# ----------------------------------------------------------------------------------- checks


def check_sums(invoice: Invoice) -> list[str]:
    """Lines add up to the subtotal, tax is on the rounded subtotal, total = subtotal + tax."""
    problems = []
    lines = sum_money([line.amount for line in invoice.lines], invoice.currency)
    if lines != invoice.subtotal:
        problems.append(f"{invoice.number}: lines sum to {lines}, subtotal is {invoice.subtotal}")
    if invoice.tax != tax_on(invoice.subtotal, invoice.tax_rate):
        problems.append(f"{invoice.number}: tax {invoice.tax} is not {invoice.tax_rate}%")
    if invoice.total != invoice.subtotal + invoice.tax:
        problems.append(f"{invoice.number}: total {invoice.total} != subtotal + tax")
    return problems


def check_usage(invoice: Invoice, groups: Sequence[UsageGroup]) -> list[str]:
    """The usage lines are exactly the usage records behind the invoice, rounded once."""
    if invoice.status is InvoiceStatus.VOID:
        return []  # its records were released to later invoices
    lines = {
        (line.usage_period or "", line.model_id or ""): line
        for line in invoice.lines
        if line.kind in USAGE_KINDS
    }
    found = {(g.period_label, g.model_id): g for g in groups}
    problems = []
    for key in sorted(set(lines) | set(found), key=str):
        line, group = lines.get(key), found.get(key)
        if line is None or group is None:
            problems.append(f"{invoice.number}: usage {key} is on only one of lines and records")
            continue
        same = (
            line.exact_amount == group.charge.amount
            and line.amount == group.charge.rounded()
            and line.requests == group.requests
            and line.tokens == group.tokens
        )
        if not same:
            problems.append(f"{invoice.number}: line {line.position} differs from its usage")
    return problems


@dataclass(frozen=True, slots=True)
class ClientBooks:
    """Everything the ledger check reads for one client."""

    currency: str
    entries: Sequence[LedgerEntry]
    stored_balance: Money
    uninvoiced: Money
    invoices: Sequence[Invoice]
    notes: Sequence[CreditNote]


def _posted(entries: Sequence[LedgerEntry], kind: EntryKind, reference: str) -> Decimal:
    return exact_sum(
        *(e.amount.amount for e in entries if e.kind is kind and e.reference == reference)
    )


def _paid_toward(entries: Sequence[LedgerEntry], invoice_id: str) -> Decimal:
    """Payments posted toward an invoice: its own (`mark paid`) and a processor's parts."""
    parts = f"{invoice_id}:"
    return exact_sum(
        *(
            e.amount.amount
            for e in entries
            if e.kind is EntryKind.PAYMENT
            and (e.reference == invoice_id or e.reference.startswith(parts))
        )
    )


def check_books(client_id: str, books: ClientBooks) -> list[str]:
    """Each invoice's entries add up to its total (and payments, voids, credit notes are
    posted), and the balance is the sum of the entries and what the client owes."""
    problems = []
    entries = books.entries
    for invoice in books.invoices:
        fees = exact_sum(
            *(
                e.amount.amount
                for e in entries
                if e.kind in (EntryKind.FEE, EntryKind.CREDIT)
                and e.reference.startswith(f"{invoice.id}#")
            )
        )
        posted = exact_sum(fees, _posted(entries, EntryKind.INVOICE, invoice.id))
        if exact_sum(posted, usage_exact(invoice).amount) != invoice.total.amount:
            problems.append(f"{invoice.number}: ledger entries do not add up to its total")
        paid = _paid_toward(entries, invoice.id)
        if invoice.status is InvoiceStatus.PAID and paid != -invoice.total.amount:
            problems.append(f"{invoice.number}: paid, but no payment of its total posted")
        if invoice.status is InvoiceStatus.VOID:
            reversal = _posted(entries, EntryKind.INVOICE, f"{invoice.id}:void")
            if exact_sum(reversal, posted) != 0:
                problems.append(f"{invoice.number}: void, but its entries are not reversed")
    for note in books.notes:
        if _posted(entries, EntryKind.CREDIT, note.id) != -note.amount.amount:
            problems.append(f"{note.number}: credit note not posted")
    mine = [e.amount for e in entries if e.amount.currency == books.currency]
    summed = sum_money(mine, books.currency)
    if summed != books.stored_balance:
        problems.append(f"client {client_id}: balance {books.stored_balance} != entries {summed}")
    open_totals = [
        # what is open of a finalized invoice: its total less the payments posted toward it
        Money(exact_sum(i.total.amount, _paid_toward(entries, i.id)), i.currency)
        for i in books.invoices
        if i.status is InvoiceStatus.FINALIZED
    ] + [  # paid in part, then void: the payments stay to the client's good
        Money(_paid_toward(entries, i.id), i.currency)
        for i in books.invoices
        if i.status is InvoiceStatus.VOID
    ]
    owed_again = [  # refunds and disputes: money that went back to the client
        e.amount
        for e in entries
        if e.kind in (EntryKind.REFUND, EntryKind.DISPUTE) and e.amount.currency == books.currency
    ]
    owed = (
        books.uninvoiced
        + sum_money(open_totals, books.currency)
        - sum_money([n.amount for n in books.notes], books.currency)
        + sum_money(owed_again, books.currency)
    )
    if owed != summed:
        problems.append(f"client {client_id}: entries sum to {summed}, it owes {owed}")
    return problems
