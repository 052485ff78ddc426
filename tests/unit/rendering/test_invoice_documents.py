"""Invoice documents from one invoice: HTML escapes everything, the PDF holds the same figures
(read back with pypdf), the CSV keeps exact decimals and inert cells."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from adapters.rendering import InvoiceFiles
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.invoicing.invoices import (
    BillingDetails,
    CreditNote,
    Invoice,
    InvoiceStatus,
    UsageGroup,
    compose_lines,
    totals,
)
from domain.invoicing.ports import AgencyDetails, InvoiceDocument
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource

APRIL = month_period("2026-04", ZoneInfo("Europe/Paris"))
ISSUED = datetime(2026, 5, 2, tzinfo=UTC)
EVIL = '<img src=x onerror="alert(1)">Zoë & Sons'


def invoice(status: InvoiceStatus = InvoiceStatus.FINALIZED) -> Invoice:
    usage = [
        UsageGroup(
            "2026-04", "openai/gpt-4o", 7, TokenUsage(1000, 200, 100, 0, 50), Money("12.345")
        ),
        UsageGroup("2026-03", "=cmd|' /C calc'!A0", 1, TokenUsage(10, 5), Money("0.5")),
    ]
    lines = compose_lines(APRIL, usage, [], "USD")
    sums = totals(lines, Decimal("20"), "USD")
    return Invoice(
        id="inv-1",
        client_id="c-1",
        period=APRIL,
        number="INV-2026-0042",
        status=status,
        currency="USD",
        tax_rate=Decimal("20"),
        lines=tuple(lines),
        subtotal=sums.subtotal,
        tax=sums.tax,
        total=sums.total,
        issued_at=ISSUED,
        due_at=ISSUED + timedelta(days=30),
        bill_to=BillingDetails(EVIL, "ap@client.test"),
        void_reason="<b>oops</b>" if status is InvoiceStatus.VOID else None,
    )


def document(status: InvoiceStatus = InvoiceStatus.FINALIZED) -> InvoiceDocument:
    agency = AgencyDetails("Agency <One>", ("1 Main St", "<script>x</script>"), "javascript:x")
    note = CreditNote("n", "inv-1", "c-1", "CN-2026-0001", Money("1.00"), "<i>goodwill</i>", ISSUED)
    return InvoiceDocument(invoice(status), agency, [note])


def test_the_html_escapes_every_value_and_drops_a_non_http_logo() -> None:
    page = InvoiceFiles().html(document(InvoiceStatus.VOID))
    for raw in ("<img src=x", "<script>x", "<b>oops", "<i>goodwill", "Agency <One>"):
        assert raw not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Zoë &amp; Sons" in page
    assert "javascript:" not in page
    assert "INV-2026-0042" in page
    assert "12.34 USD" in page  # 12.345, half-even
    assert "VOID" in page
    with_logo = document()
    logo = AgencyDetails("A", (), 'https://cdn.test/logo.png?a=1&b="2"')
    page = InvoiceFiles().html(InvoiceDocument(with_logo.invoice, logo))
    assert 'src="https://cdn.test/logo.png?a=1&amp;b=&quot;2&quot;"' in page


def test_the_pdf_holds_the_number_every_line_and_the_totals() -> None:
    doc = document()
    pdf = InvoiceFiles().pdf(doc)
    assert pdf.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "INV-2026-0042" in text
    for line in doc.invoice.lines:
        assert f"{line.amount.amount} USD" in text
    assert f"{doc.invoice.subtotal.amount} USD" in text
    assert f"{doc.invoice.tax.amount} USD" in text
    assert f"{doc.invoice.total.amount} USD" in text
    assert "Zo" in text  # Latin-1 text survives; the rest prints as '?'


def test_the_csv_keeps_exact_decimals_and_inert_cells() -> None:
    record = UsageRecord(
        id="r",
        request_id='=HYPERLINK("http://x")',
        attempt=1,
        client_id="c-1",
        api_key_id="k",
        model_id="openai/gpt-4o",
        provider="openai",
        usage=TokenUsage(1000, 200, 100, 0, 50),
        cost=Money("0.000123456789012"),
        charge=Money("0.000148148146814400"),
        price_version_id="p",
        plan_version_id=None,
        started_at=ISSUED,
        latency_ms=5,
        status=CallStatus.SUCCEEDED,
        source=UsageSource.REPORTED,
    )
    text = InvoiceFiles().usage_csv(invoice(), [record])
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["charge"] == "0.000148148146814400"
    assert Decimal(row["charge"]) == record.charge.amount
    assert row["request_id"].startswith("'=")
    assert row["invoice"] == "INV-2026-0042"
    assert (row["input_tokens"], row["cached_input_tokens"], row["reasoning_tokens"]) == (
        "1000",
        "100",
        "50",
    )
    assert "cost" not in row  # the provider's cost is the agency's business
