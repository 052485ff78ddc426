"""Tax treatments: which rate applies (country, region, date), what each treatment needs and
prints, the loose checks on billing details, and totals = rounded lines + tax for every
treatment and currency exponent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import minor_unit, round_to_minor, sum_money
from domain.errors import DomainError, ValidationError
from domain.invoicing.billing_details import AgencyProfile, PostalAddress, check_tax_id
from domain.invoicing.tax import (
    REVERSE_CHARGE_NOTE,
    ClientTaxProfile,
    TaxNotComputable,
    TaxRate,
    TaxTreatment,
    applied_tax,
    rate_in_force,
)
from tests.unit.domain.strategies import PROPERTY
from tests.unit.domain.tax_builders import RATES, client_details, taxed_invoice


@pytest.mark.parametrize(
    ("country", "region", "on", "expected"),
    [
        ("DE", "", date(2020, 12, 31), Decimal("16")),  # the temporary rate
        ("DE", "", date(2021, 1, 1), Decimal("19")),  # the new one from its first day
        ("DE", "Bayern", date(2026, 5, 2), Decimal("19")),  # no regional rate: the country's
        ("CA", "QC", date(2026, 5, 2), Decimal("14.975")),  # the region's own
        ("CA", "qc", date(2026, 5, 2), Decimal("14.975")),  # regions compare case-blind
        ("CA", "ON", date(2026, 5, 2), Decimal("5")),
        ("CA", "QC", date(2012, 12, 31), Decimal("5")),  # before the regional rate began
    ],
)
def test_standard_picks_the_rate_in_force_for_country_region_and_day(
    country: str, region: str, on: date, expected: Decimal
) -> None:
    rate = rate_in_force(RATES, country, region, on)
    assert rate is not None
    assert rate.percent == expected


def test_standard_without_a_rate_is_an_error_not_zero() -> None:
    profile = ClientTaxProfile("c", TaxTreatment.STANDARD)
    with pytest.raises(TaxNotComputable, match="no tax rate for FR in force on 2026-05-02"):
        applied_tax(
            profile,
            Decimal(0),
            country="FR",
            region="",
            client_tax_id=None,
            rates=RATES,
            on=date(2026, 5, 2),
        )
    with pytest.raises(TaxNotComputable, match="in force on 2007-01-01"):
        applied_tax(
            profile,
            Decimal(0),
            country="CA",
            region="",
            client_tax_id=None,
            rates=RATES,
            on=date(2007, 1, 1),
        )


def test_treatments_give_rate_and_note() -> None:
    def apply(
        profile: ClientTaxProfile | None, tax_id: str | None = "GB1"
    ) -> tuple[Decimal, str | None]:
        result = applied_tax(
            profile,
            Decimal("7.5"),
            country="GB",
            region="",
            client_tax_id=tax_id,
            rates=RATES,
            on=date(2026, 5, 2),
        )
        return result.rate, result.note

    assert apply(None) == (Decimal("7.5"), None)  # no profile: today's custom percent
    assert apply(ClientTaxProfile("c", TaxTreatment.CUSTOM)) == (Decimal("7.5"), None)
    rc = ClientTaxProfile("c", TaxTreatment.REVERSE_CHARGE)
    assert apply(rc) == (Decimal(0), REVERSE_CHARGE_NOTE)
    with pytest.raises(TaxNotComputable, match="tax id"):
        apply(rc, tax_id=None)
    exempt = ClientTaxProfile("c", TaxTreatment.EXEMPT, "  Charity  ")
    assert apply(exempt) == (Decimal(0), "Tax exempt: Charity")


def test_exempt_needs_a_reason_and_other_treatments_drop_it() -> None:
    with pytest.raises(ValidationError, match="reason"):
        ClientTaxProfile("c", TaxTreatment.EXEMPT, "   ")
    assert ClientTaxProfile("c", TaxTreatment.STANDARD, "x").exempt_reason is None


@pytest.mark.parametrize(
    "bad",
    [
        lambda: TaxRate("DEU", "", Decimal(19), date(2021, 1, 1)),
        lambda: TaxRate("D1", "", Decimal(19), date(2021, 1, 1)),
        lambda: TaxRate("DE", "", Decimal(101), date(2021, 1, 1)),
        lambda: TaxRate("DE", "", Decimal("-1"), date(2021, 1, 1)),
        lambda: TaxRate("DE", "", Decimal("19.00001"), date(2021, 1, 1)),
        lambda: TaxRate("DE", "x" * 101, Decimal(19), date(2021, 1, 1)),
        lambda: check_tax_id("D"),
        lambda: check_tax_id("DE" + "1" * 40),
        lambda: check_tax_id("DE<script>"),
        lambda: check_tax_id("DE\n123"),
        lambda: PostalAddress(("a", "b", "c", "d", "e")),
        lambda: PostalAddress(country="Germany"),
        lambda: PostalAddress(("line\x00",)),
        lambda: AgencyProfile("  "),
        lambda: AgencyProfile("A", payment_terms_days=400),
        lambda: AgencyProfile("A", bank_details="x" * 501),
    ],
)
def test_bad_rates_and_details_are_refused(bad: object) -> None:
    with pytest.raises(DomainError):
        bad()  # type: ignore[operator]  # each case is a zero-argument callable


def test_details_are_normalized_and_printed() -> None:
    assert check_tax_id(" DE 123.456/7-8 ") == "DE 123.456/7-8"
    details = client_details("gb", region="Greater London")
    assert details.address.country == "GB"
    assert details.address.printed() == ("1 High St", "EC1A 1BB London, Greater London", "GB")
    assert TaxRate("de", " ", Decimal("19.0"), date(2021, 1, 1)).country == "DE"


currencies = st.sampled_from(["JPY", "USD", "KWD"])  # exponents 0, 2, 3
charges = st.lists(
    st.integers(min_value=0, max_value=10**12).map(lambda n: str(Decimal(n).scaleb(-7))),
    min_size=1,
    max_size=8,
)


@PROPERTY
@given(
    treatment=st.sampled_from(list(TaxTreatment)),
    amounts=charges,
    currency=currencies,
    custom=st.integers(min_value=0, max_value=10**6).map(lambda n: Decimal(n).scaleb(-4)),
)
def test_total_is_the_rounded_lines_plus_tax_for_every_treatment_and_exponent(
    treatment: TaxTreatment, amounts: list[str], currency: str, custom: Decimal
) -> None:
    invoice = taxed_invoice(treatment, amounts, currency, custom_rate=custom)
    unit = minor_unit(currency)
    for line in invoice.lines:
        assert line.amount.amount == round_to_minor(line.exact_amount, currency)
        assert line.amount.amount % unit == 0
    subtotal = sum_money([line.amount for line in invoice.lines], currency)
    assert invoice.subtotal == subtotal
    expected_rate = {
        TaxTreatment.CUSTOM: custom,
        TaxTreatment.STANDARD: Decimal("19"),
        TaxTreatment.REVERSE_CHARGE: Decimal(0),
        TaxTreatment.EXEMPT: Decimal(0),
    }[treatment]
    assert invoice.tax_rate == expected_rate
    assert invoice.tax.amount == round_to_minor(subtotal.amount * expected_rate / 100, currency)
    assert invoice.tax.amount % unit == 0
    assert invoice.total == invoice.subtotal + invoice.tax
