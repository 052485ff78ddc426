"""Journal entries for accounting tools (docs/tax.md "Exports").

Invoices: one entry per invoice on its issue day: debit receivables with the total, credit
revenue per line (usage per model, fixed fee, fixed price; a credit line debits the credits
account) and credit tax payable with the tax. A void invoice adds the reversing entry on the
day it was voided. Amounts are the invoice's own, in minor units, so the entries add up to
the invoices to the cent.

Ledger: one entry per ledger entry (exact amounts, as the ledger keeps them): a positive
amount debits receivables and credits its account by kind (usage revenue, fees, credits, and
for an invoice's own entry tax payable for the tax and usage revenue for the rounding of its
usage lines); a payment debits the bank. Every entry balances: debits = credits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import assert_never

from domain.accounting.chart import ChartOfAccounts
from domain.billing.money import exact_sum
from domain.invoicing.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.invoicing.postings import USAGE_KINDS
from domain.invoicing.tax import TaxTreatment

INVOICES_JOURNAL = "SALES"
LEDGER_JOURNAL = "LEDGER"


@dataclass(frozen=True, slots=True)
class EntryHead:
    """What every line of one journal entry shares."""

    day: date
    journal: str
    entry: str  # lines of one entry share it; each entry balances
    reference: str  # the invoice number (or ledger reference)
    currency: str
    tax_code: str = ""
    client_id: str = ""
    client_name: str = ""
    client_tax_id: str = ""
    seller_tax_id: str = ""
    tax_note: str = ""
    client_address: str = ""  # as printed, lines joined with "; "
    po_reference: str = ""


@dataclass(frozen=True, slots=True)
class JournalLine:
    head: EntryHead
    account: str
    description: str
    debit: Decimal
    credit: Decimal

    @property
    def entry(self) -> str:
        return self.head.entry


def _line(
    head: EntryHead, account: str, description: str, amount: Decimal, *, debit: bool
) -> JournalLine:
    """A line meant on one side; a negative amount goes to the other side, positive."""
    zero = Decimal(0)
    if (amount >= 0) == debit:
        return JournalLine(head, account, description, abs(amount), zero)
    return JournalLine(head, account, description, zero, abs(amount))


def tax_code(invoice: Invoice) -> str:
    """S19 (standard 19%), C20 (custom 20%), RC (reverse charge), EX (exempt)."""
    treatment = invoice.issued.treatment if invoice.issued is not None else TaxTreatment.CUSTOM
    rate = format(invoice.tax_rate.normalize(), "f")
    match treatment:
        case TaxTreatment.REVERSE_CHARGE:
            return "RC"
        case TaxTreatment.EXEMPT:
            return "EX"
        case TaxTreatment.STANDARD:
            return f"S{rate}"
        case _:
            return f"C{rate}"


def _line_account(line: InvoiceLine, chart: ChartOfAccounts) -> str:
    """Usage revenue of every kind (a BYOK fee, a settled estimate billed) per model; the
    fixed amounts and credits to their own accounts. Exhaustive: a new line kind must be
    given its account here."""
    match line.kind:
        case LineKind.USAGE | LineKind.PRIOR_USAGE | LineKind.BYOK_USAGE | LineKind.SETTLEMENT:
            return chart.usage_account(line.model_id)
        case LineKind.FIXED_FEE:
            return chart.fixed_fee
        case LineKind.FIXED_PRICE:
            return chart.fixed_price
        case LineKind.CREDIT:
            return chart.credits
    assert_never(line.kind)


def invoice_entry(
    invoice: Invoice, chart: ChartOfAccounts, client_name: str = "", *, reverse: bool = False
) -> list[JournalLine]:
    issued = invoice.issued
    client = issued.client if issued is not None else None
    agency = issued.agency if issued is not None else None
    at = invoice.voided_at if reverse and invoice.voided_at else invoice.issued_at
    head = EntryHead(
        day=at.astimezone(invoice.period.start.tzinfo).date(),
        journal=INVOICES_JOURNAL,
        entry=f"{invoice.number}{'-VOID' if reverse else ''}",
        reference=invoice.number,
        currency=invoice.currency,
        tax_code=tax_code(invoice),
        client_id=invoice.client_id,
        client_name=(client.legal_name if client and client.legal_name else client_name),
        client_tax_id=(client.tax_id or "") if client else "",
        seller_tax_id=(agency.tax_id or "") if agency else "",
        tax_note=(issued.note or "") if issued is not None else "",
        client_address="; ".join(client.address.printed()) if client else "",
        po_reference=(client.po_reference or "") if client else "",
    )
    sign = Decimal(-1) if reverse else Decimal(1)
    prefix = "Void: " if reverse else ""
    lines = [
        _line(
            head,
            chart.receivables,
            f"{prefix}{invoice.number} {invoice.period.label}",
            sign * invoice.total.amount,
            debit=True,
        )
    ]
    for line in invoice.lines:
        if line.amount.amount != 0:
            account = _line_account(line, chart)
            text = f"{prefix}{line.description}"
            lines.append(_line(head, account, text, sign * line.amount.amount, debit=False))
    if invoice.tax.amount != 0:
        text = f"{prefix}Tax {head.tax_code}"
        lines.append(_line(head, chart.tax, text, sign * invoice.tax.amount, debit=False))
    return lines


def invoices_journal(
    invoices: Iterable[Invoice], chart: ChartOfAccounts, names: Mapping[str, str]
) -> list[JournalLine]:
    """The entries of the invoices (numbers ascending), each void one followed by its reversal."""
    lines: list[JournalLine] = []
    for invoice in sorted(invoices, key=lambda i: i.number):
        if invoice.status is InvoiceStatus.DRAFT:
            continue
        name = names.get(invoice.client_id, "")
        lines += invoice_entry(invoice, chart, name)
        if invoice.status is InvoiceStatus.VOID:
            lines += invoice_entry(invoice, chart, name, reverse=True)
    return lines


_LEDGER_ACCOUNT = MappingProxyType(
    {
        EntryKind.USAGE_CHARGE: "usage",
        EntryKind.FEE: "fixed_fee",
        EntryKind.CREDIT: "credits",
        EntryKind.PAYMENT: "bank",
        # money that left the bank again (a refund, a chargeback): the client owes it again
        EntryKind.REFUND: "bank",
        EntryKind.DISPUTE: "bank",
    }
)


def _ledger_counterparts(
    entry: LedgerEntry, chart: ChartOfAccounts, invoices: Mapping[str, Invoice]
) -> list[tuple[str, Decimal]]:
    """(account, amount) on the other side of receivables, adding up to the entry's amount."""
    amount = entry.amount.amount
    if entry.kind is EntryKind.INVOICE:
        invoice_id, _, void = entry.reference.partition(":")
        invoice = invoices.get(invoice_id)
        if invoice is None:
            return [(chart.usage, amount)]
        if not void:  # tax, and the rounding of the usage lines
            tax = invoice.tax.amount
            return [(chart.tax, tax), (chart.usage, exact_sum(amount, -tax))]
        # A void reverses the tax, the fixed and credit lines (each to its own account) and
        # the rounding of the usage lines, in one entry.
        parts = [(chart.tax, -invoice.tax.amount)]
        parts += [
            (_line_account(line, chart), -line.amount.amount)
            for line in invoice.lines
            if line.kind not in USAGE_KINDS  # their charges return to unbilled
        ]
        rest = exact_sum(amount, *(-part for _, part in parts))
        return [*parts, (chart.usage, rest)]
    line = _posted_line(entry, invoices)
    if line is not None:  # a fixed, settled or credit line of an invoice: its own account
        return [(_line_account(line, chart), amount)]
    return [(getattr(chart, _LEDGER_ACCOUNT[entry.kind]), amount)]


def _posted_line(entry: LedgerEntry, invoices: Mapping[str, Invoice]) -> InvoiceLine | None:
    """The invoice line a fee or credit entry posted (reference `<invoice id>#<position>`)."""
    if entry.kind not in (EntryKind.FEE, EntryKind.CREDIT):
        return None
    invoice_id, sep, position = entry.reference.partition("#")
    invoice = invoices.get(invoice_id)
    if not sep or invoice is None:
        return None
    return next((x for x in invoice.lines if str(x.position) == position), None)


def ledger_journal(
    entries: Iterable[LedgerEntry],
    chart: ChartOfAccounts,
    invoices: Sequence[Invoice],
    names: Mapping[str, str],
    zone_of: datetime | None = None,
) -> list[JournalLine]:
    """Each ledger entry as a balanced journal entry, oldest first."""
    by_id = {invoice.id: invoice for invoice in invoices}
    tz = zone_of.tzinfo if zone_of is not None else None
    lines: list[JournalLine] = []
    for entry in sorted(entries, key=lambda e: (e.occurred_at, e.id)):
        amount = entry.amount.amount
        head = EntryHead(
            day=entry.occurred_at.astimezone(tz).date(),
            journal=LEDGER_JOURNAL,
            entry=entry.id,
            reference=entry.reference,
            currency=entry.amount.currency,
            client_id=entry.client_id,
            client_name=names.get(entry.client_id, ""),
        )
        text = entry.description or entry.kind.value
        lines.append(_line(head, chart.receivables, text, amount, debit=True))
        for account, part in _ledger_counterparts(entry, chart, by_id):
            if part != 0:
                lines.append(_line(head, account, text, part, debit=False))
    return lines


def unbalanced(lines: Iterable[JournalLine]) -> list[str]:
    """The entries whose debits differ from their credits (none, by construction)."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        sums[line.entry] = exact_sum(sums.get(line.entry, Decimal(0)), line.debit, -line.credit)
    return sorted(entry for entry, rest in sums.items() if rest != 0)
