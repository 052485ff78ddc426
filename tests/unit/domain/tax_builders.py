"""Invoices with a tax treatment and billing details, for the tax and accounting tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.invoicing.billing_details import (
    AgencyProfile,
    ClientBillingDetails,
    IssuedDetails,
    PostalAddress,
)
from domain.invoicing.invoices import (
    BillingDetails,
    Invoice,
    InvoiceStatus,
    UsageGroup,
    compose_lines,
    totals,
)
from domain.invoicing.tax import ClientTaxProfile, TaxRate, TaxTreatment, applied_tax
from domain.metering.tokens import TokenUsage

APRIL = month_period("2026-04", ZoneInfo("Europe/Berlin"))
ISSUED = datetime(2026, 5, 2, 8, tzinfo=UTC)
RATES = [
    TaxRate("DE", "", Decimal("16"), date(2020, 7, 1)),
    TaxRate("DE", "", Decimal("19"), date(2021, 1, 1)),
    TaxRate("CA", "", Decimal("5"), date(2008, 1, 1)),
    TaxRate("CA", "QC", Decimal("14.975"), date(2013, 1, 1)),
]
AGENCY = AgencyProfile(
    legal_name="Berlin Agency GmbH",
    address=PostalAddress(("Hauptstr. 1",), "Berlin", "10115", "", "DE"),
    tax_id="DE123456789",
    bank_details="IBAN DE89 3704 0044 0532 0130 00\nBIC COBADEFFXXX",
    payment_terms_days=14,
    payment_terms_text="Payable within 14 days.",
)


def client_details(
    country: str = "GB", tax_id: str | None = "GB987654321", region: str = ""
) -> ClientBillingDetails:
    return ClientBillingDetails(
        client_id="c-1",
        legal_name="London Client Ltd",
        address=PostalAddress(("1 High St",), "London", "EC1A 1BB", region, country),
        tax_id=tax_id,
        po_reference="PO-77",
    )


def taxed_invoice(
    treatment: TaxTreatment,
    charges: Sequence[str] = ("12.345", "0.5"),
    currency: str = "USD",
    *,
    reason: str | None = "Charity, section 4",
    details: ClientBillingDetails | None = None,
    custom_rate: Decimal = Decimal("20"),
    number: str = "INV-2026-0042",
    status: InvoiceStatus = InvoiceStatus.FINALIZED,
) -> Invoice:
    details = details or client_details("DE" if treatment is TaxTreatment.STANDARD else "GB")
    usage = [
        UsageGroup("2026-04", f"m/{i}", 1, TokenUsage(10, 5), Money(charge, currency))
        for i, charge in enumerate(charges)
    ]
    lines = compose_lines(APRIL, usage, [], currency)
    profile = ClientTaxProfile("c-1", treatment, reason)
    tax = applied_tax(
        profile,
        custom_rate,
        country=details.address.country,
        region=details.address.region,
        client_tax_id=details.tax_id,
        rates=RATES,
        on=ISSUED.date(),
    )
    sums = totals(lines, tax.rate, currency)
    return Invoice(
        id=f"inv-{number}",
        client_id="c-1",
        period=APRIL,
        number=number,
        status=status,
        currency=currency,
        tax_rate=tax.rate,
        lines=tuple(lines),
        subtotal=sums.subtotal,
        tax=sums.tax,
        total=sums.total,
        issued_at=ISSUED,
        due_at=ISSUED + timedelta(days=14),
        bill_to=BillingDetails("London Client", "ap@client.test"),
        voided_at=ISSUED + timedelta(days=3) if status is InvoiceStatus.VOID else None,
        issued=IssuedDetails(tax.treatment, tax.note, details, AGENCY),
    )
