"""The words and figures every invoice document shows, in one place."""

from __future__ import annotations

from domain.invoicing.invoices import Invoice, InvoiceLine, LineKind


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
    return (
        f"{line.requests} requests; input {t.input_tokens} ({t.cached_input_tokens} cached, "
        f"{t.cache_write_tokens} cache write); output {t.output_tokens} "
        f"({t.reasoning_tokens} reasoning)"
    )


STATUS_NOTE = {
    "finalized": "",
    "paid": "PAID",
    "void": "VOID",
    "draft": "DRAFT",
}
