"""What invoicing reads without writing: the usage behind an invoice, the draft of the invoice
a close would finalize, and the books check behind `bizgraph ledger verify`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from domain.billing.exchange import Conversions, RateBook
from domain.billing.money import Money
from domain.billing.periods import Period
from domain.billing.plans import PlanTimeline
from domain.errors import Conflict, NotFound
from domain.invoicing.conversion import (
    convert_fixed,
    convert_records,
    foreign,
    needs_conversion,
)
from domain.invoicing.invoices import (
    CreditNote,
    DraftInvoice,
    Invoice,
    InvoiceStatus,
    UsageGroup,
    apply_credits,
    compose_lines,
    group_usage,
    owes_nothing,
    totals,
)
from domain.invoicing.ports import InvoiceFilter
from domain.invoicing.postings import ClientBooks, check_books, check_sums, check_usage
from domain.ports import InvoicingUnitOfWork
from domain.usecases.tax_terms import invoice_tax


async def invoice_usage(
    uow: InvoicingUnitOfWork,
    invoice_id: str,
    period: Period,
    zone: ZoneInfo,
    conversions: Conversions | None = None,
) -> list[UsageGroup]:
    """The records an invoice took, summed per model (this period's, aggregated by the store)
    and per earlier month and model (late usage). Usage in another currency than
    `conversions`' is converted per record at its day's rate (MissingRate without one): read
    only when there is some, so a client billed in its prices' currency costs nothing more."""
    current = await uow.invoices.usage_groups(invoice_id, period)
    late = await uow.invoices.usage_records(invoice_id, started_before=period.start)
    groups = [*current, *group_usage(late, zone)]
    if conversions is None or not needs_conversion(groups, conversions.currency):
        return groups
    currency = conversions.currency
    every = await uow.invoices.usage_records(invoice_id)
    return [
        *(g for g in current if g.charge.currency == currency),
        *group_usage([r for r in late if r.charge.currency == currency], zone),
        *convert_records(foreign(every, currency), zone, conversions),
    ]


async def client_conversions(uow: InvoicingUnitOfWork, currency: str) -> Conversions:
    return Conversions(await uow.rates.book(), currency)


def invoice_conversions(invoice: Invoice) -> Conversions:
    """The conversions an invoice made, from the rates it froze (the books check)."""
    return Conversions(RateBook(invoice.rates), invoice.currency)


async def draft_invoice(
    uow: InvoicingUnitOfWork, client_id: str, period: Period, zone: ZoneInfo, on: date
) -> DraftInvoice:
    """The client's unbilled usage that started before the period's end (earlier months as
    prior-period lines), the fixed amounts and its credits, as a close would bill them now.
    A period already invoiced for the client is a Conflict naming the invoice; tax is the
    client's current treatment for an invoice issued on `on` (TaxNotComputable without a
    rate for a standard client)."""
    client = await uow.clients.get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    issued = await uow.invoices.find(InvoiceFilter([client.id], period.label))
    live = [i for i in issued if i.status is not InvoiceStatus.VOID]
    if live:
        raise Conflict(f"{period.label} is invoiced for this client: {live[0].number}")
    current = await uow.invoices.unbilled_groups(client.id, period)
    late = await uow.invoices.unbilled_records(client.id, period.start)
    timeline = PlanTimeline(await uow.plans.history(client.id))
    usage = [*current, *group_usage(late, zone)]
    conversions = await client_conversions(uow, client.currency)
    if needs_conversion(usage, client.currency):
        every = await uow.invoices.unbilled_records(client.id, period.end)
        usage = [
            *(g for g in current if g.charge.currency == client.currency),
            *group_usage([r for r in late if r.charge.currency == client.currency], zone),
            *convert_records(foreign(every, client.currency), zone, conversions),
        ]
    fixed = convert_fixed(timeline.fixed_charges(period), period, conversions)
    settled = await uow.settlements.pending_billed(client.id)
    lines = compose_lines(period, usage, fixed, client.currency, settled)
    if not owes_nothing(lines):
        credits = await uow.invoices.available_credits(client.id)
        lines, _ = apply_credits(lines, credits, client.currency)
    tax = (await invoice_tax(uow, client, on)).applied
    sums = totals(lines, tax.rate, client.currency)
    return DraftInvoice(
        client.id,
        period,
        client.currency,
        tax.rate,
        tuple(lines),
        sums.subtotal,
        sums.tax,
        sums.total,
        tax.treatment,
        tax.note,
        conversions.applied(),
    )


async def books_problems(uow: InvoicingUnitOfWork, zone: ZoneInfo) -> list[str]:
    """Every invoice adds up, its usage lines equal the records behind them, its ledger
    entries add up to its total, and every balance is the sum of its entries and what the
    client owes (docs/invoices.md "Ledger")."""
    problems: list[str] = []
    for client in await uow.clients.list():
        invoices = await uow.invoices.find(InvoiceFilter([client.id]))
        notes: list[CreditNote] = []
        for invoice in invoices:
            problems += check_sums(invoice)
            conversions = invoice_conversions(invoice)
            usage = await invoice_usage(uow, invoice.id, invoice.period, zone, conversions)
            problems += check_usage(invoice, usage)
            notes += await uow.invoices.credit_notes(invoice.id)
        books = ClientBooks(
            currency=client.currency,
            entries=await uow.ledger.entries(client.id),
            stored_balance=await uow.ledger.balance(client.id, client.currency),
            uninvoiced=await uow.invoices.uninvoiced_charge(client.id, client.currency),
            invoices=invoices,
            notes=notes,
        )
        problems += check_books(client.id, books)
    return problems


def revenue_of(invoices: Iterable[Invoice]) -> dict[str, Money]:
    """Each client's revenue of a closed period: the sum of its live invoices' subtotals."""
    revenue: dict[str, Money] = {}
    for invoice in invoices:
        if invoice.status is not InvoiceStatus.VOID:
            before = revenue.get(invoice.client_id, Money.zero(invoice.currency))
            revenue[invoice.client_id] = before + invoice.subtotal
    return revenue
