"""The pay link on an open invoice's HTML and PDF: shown (escaped) when the document carries
an https link, left out otherwise (a non-https value is never made a link)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from adapters.rendering import InvoiceFiles
from domain.invoicing.ports import AgencyDetails, InvoiceDocument
from tests.unit.rendering.test_invoice_documents import invoice

AGENCY = AgencyDetails("Agency")
LINK = "https://checkout.stripe.com/c/pay/cs_test_1?a=1&b=2"


def test_the_html_invoice_links_to_its_payment_page() -> None:
    html = InvoiceFiles().html(InvoiceDocument(invoice(), AGENCY, (), LINK))
    assert 'href="https://checkout.stripe.com/c/pay/cs_test_1?a=1&amp;b=2"' in html
    assert "Pay online" in html


def test_no_link_without_one_or_for_a_non_https_value() -> None:
    assert "Pay online" not in InvoiceFiles().html(InvoiceDocument(invoice(), AGENCY))
    hostile = InvoiceDocument(invoice(), AGENCY, (), "javascript:alert(1)")
    assert "javascript:" not in InvoiceFiles().html(hostile)


def test_the_pdf_carries_the_link() -> None:
    pdf = InvoiceFiles().pdf(InvoiceDocument(invoice(), AGENCY, (), LINK))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Pay online" in text
    assert "cs_test_1" in text
