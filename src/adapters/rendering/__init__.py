"""Invoice documents: printable HTML, PDF (fpdf2) and the CSV of the usage behind them."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.rendering.invoice_csv import usage_csv
from adapters.rendering.invoice_html import invoice_html
from adapters.rendering.invoice_pdf import invoice_pdf
from domain.invoicing.invoices import Invoice
from domain.invoicing.ports import InvoiceDocument, InvoiceRenderer
from domain.metering.usage import UsageRecord


class InvoiceFiles(InvoiceRenderer):
    def html(self, document: InvoiceDocument) -> str:
        return invoice_html(document)

    def pdf(self, document: InvoiceDocument) -> bytes:
        return invoice_pdf(document)

    def usage_csv(self, invoice: Invoice, records: Sequence[UsageRecord]) -> str:
        return usage_csv(invoice, records)
