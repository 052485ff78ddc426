"""The words and figures every invoice document shows, in one place."""

from __future__ import annotations

from domain.invoicing.invoices import Invoice, InvoiceLine, LineKind
from domain.invoicing.ports import InvoiceDocument
from domain.invoicing.tax import TaxTreatment


def money(amount: object, currency: str) -> str:
    return f"{amount} {currency}"


def day(invoice: Invoice, which: str) -> str:
    instant = invoice.issued_at if which == "issued" else invoice.due_at
    return instant.astimezone(invoice.period.start.tzinfo).date().isoformat()


def line_detail(line: InvoiceLine) -> str:
    """Requests and tokens by class, for usage lines."""
    if line.kind not in (LineKind.USAGE, LineKind.PRIOR_USAGE, LineKind.BYOK_USAGE):
        return ""
    t = line.tokens
    converted = (
        ""
        if line.source is None
        else f"; {line.source.amount} {line.source.currency} converted at the rates below"
    )
    return (
        f"{line.requests} requests; input {t.input_tokens} ({t.cached_input_tokens} cached, "
        f"{t.cache_write_tokens} cache write); output {t.output_tokens} "
        f"({t.reasoning_tokens} reasoning){converted}"
    )


def rate_lines(invoice: Invoice) -> tuple[str, ...]:
    """The exchange rates the invoice used (docs/currencies.md): a call at the rate in force
    on the day it started, a fixed amount at the period's first day's."""
    return tuple(
        f"1 {r.base} = {r.rate} {r.quote}, in force from {r.effective_on.isoformat()} ({r.source})"
        for r in invoice.rates
    )


STATUS_NOTE = {
    "finalized": "",
    "paid": "PAID",
    "void": "VOID",
    "draft": "DRAFT",
}


# ------------------------------------------------------------- parties and tax (docs/tax.md)


def seller_lines(document: InvoiceDocument) -> tuple[str, ...]:
    """The issuer as frozen on the invoice, else the settings' name and address (invoices
    finalized before there was an agency profile)."""
    issued = document.invoice.issued
    agency = issued.agency if issued is not None else None
    if agency is None:
        return (document.agency.name, *document.agency.address)
    lines = [agency.legal_name, *agency.address.printed()]
    if agency.tax_id:
        lines.append(f"Tax id: {agency.tax_id}")
    return tuple(lines)


def buyer_lines(invoice: Invoice) -> tuple[str, ...]:
    details = invoice.issued.client if invoice.issued is not None else None
    if details is None:
        return (invoice.bill_to.name, *((invoice.bill_to.email,) if invoice.bill_to.email else ()))
    lines = [details.legal_name or invoice.bill_to.name, *details.address.printed()]
    if details.tax_id:
        lines.append(f"Tax id: {details.tax_id}")
    if details.po_reference:
        lines.append(f"Purchase order: {details.po_reference}")
    if invoice.bill_to.email:
        lines.append(invoice.bill_to.email)
    return tuple(lines)


def tax_label(invoice: Invoice) -> str:
    treatment = invoice.issued.treatment if invoice.issued is not None else TaxTreatment.CUSTOM
    if treatment is TaxTreatment.REVERSE_CHARGE:
        return "Tax (reverse charge)"
    if treatment is TaxTreatment.EXEMPT:
        return "Tax (exempt)"
    return f"Tax ({invoice.tax_rate}%)"


def tax_note(invoice: Invoice) -> str:
    return (invoice.issued.note or "") if invoice.issued is not None else ""


def payment_lines(document: InvoiceDocument) -> tuple[str, ...]:
    """Bank details and payment terms, as frozen on the invoice."""
    issued = document.invoice.issued
    agency = issued.agency if issued is not None else None
    if agency is None:
        return ()
    lines = []
    if agency.payment_terms_text:
        lines.extend(agency.payment_terms_text.splitlines())
    if agency.bank_details:
        lines.extend(agency.bank_details.splitlines())
    return tuple(line for line in lines if line.strip())
