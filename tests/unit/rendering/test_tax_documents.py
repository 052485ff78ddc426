"""Tax treatments and billing details on the documents: reverse charge shows 0 tax, the note
and both tax ids on the HTML, the PDF (read back with pypdf) and the export CSV; exempt prints
its reason; invoices from before billing details render as before."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from pypdf import PdfReader

from adapters.rendering import InvoiceFiles
from adapters.rendering.journal_csv import HEADER, journal_csv
from domain.accounting.chart import ChartOfAccounts
from domain.accounting.journal import invoices_journal
from domain.invoicing.ports import AgencyDetails, InvoiceDocument
from domain.invoicing.tax import TaxTreatment
from tests.unit.domain.tax_builders import taxed_invoice

SETTINGS_AGENCY = AgencyDetails("Settings Agency", ("Old street 1",))


def pdf_text(document: InvoiceDocument) -> str:
    reader = PdfReader(io.BytesIO(InvoiceFiles().pdf(document)))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_reverse_charge_on_html_pdf_and_csv() -> None:
    invoice = taxed_invoice(TaxTreatment.REVERSE_CHARGE)
    assert invoice.tax.amount == 0
    document = InvoiceDocument(invoice, SETTINGS_AGENCY)
    for text in (InvoiceFiles().html(document), pdf_text(document)):
        assert "Reverse charge" in text
        assert "Tax (reverse charge)" in text
        assert "0.00 USD" in text
        assert "DE123456789" in text
        assert "GB987654321" in text
        assert "Berlin Agency GmbH" in text
        assert "Settings Agency" not in text
        assert "London Client Ltd" in text
        assert "PO-77" in text
        assert "IBAN DE89 3704 0044 0532 0130 00" in text
        assert "Payable within 14 days." in text
    rows = list(
        csv.DictReader(io.StringIO(journal_csv(invoices_journal([invoice], ChartOfAccounts(), {}))))
    )
    assert list(rows[0]) == HEADER
    assert {row["tax_note"] for row in rows} == {"Reverse charge"}
    assert {row["client_tax_id"] for row in rows} == {"GB987654321"}
    assert {row["seller_tax_id"] for row in rows} == {"DE123456789"}
    assert {row["tax_code"] for row in rows} == {"RC"}
    assert {row["client_address"] for row in rows} == {"1 High St; EC1A 1BB London; GB"}
    assert {row["po_reference"] for row in rows} == {"PO-77"}
    assert rows[0]["debit"] == str(invoice.total.amount)


def test_exempt_prints_its_reason() -> None:
    invoice = taxed_invoice(TaxTreatment.EXEMPT, reason="Art. 132 VAT Directive")
    document = InvoiceDocument(invoice, SETTINGS_AGENCY)
    for text in (InvoiceFiles().html(document), pdf_text(document)):
        assert "Tax exempt: Art. 132 VAT Directive" in text
        assert "Tax (exempt)" in text


def test_standard_prints_its_rate_and_html_escapes_details() -> None:
    invoice = taxed_invoice(TaxTreatment.STANDARD)
    assert invoice.issued is not None
    assert invoice.issued.client is not None
    evil = replace(invoice.issued.client, legal_name="<script>x</script>")
    invoice = replace(invoice, issued=replace(invoice.issued, client=evil))
    page = InvoiceFiles().html(InvoiceDocument(invoice, SETTINGS_AGENCY))
    assert "Tax (19%)" in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_an_invoice_without_issued_details_renders_as_before() -> None:
    invoice = replace(taxed_invoice(TaxTreatment.CUSTOM), issued=None)
    page = InvoiceFiles().html(InvoiceDocument(invoice, SETTINGS_AGENCY))
    assert "Settings Agency" in page
    assert "Old street 1" in page
    assert "London Client" in page
    assert "ap@client.test" in page
    assert "Tax (20%)" in page
