"""Exchange rates (docs/currencies.md): which rate applies, exact conversion rounded once per
line (properties for currencies of exponent 0, 2 and 3), cross rates derived from the ECB's
reference file, and that no pair converts without a rate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.ecb import parse_reference_rates
from domain.billing.exchange import (
    RATE_DECIMALS,
    Conversions,
    ExchangeRate,
    MissingRate,
    RateBook,
    cross_rate,
    derive_rates,
)
from domain.billing.money import Money, sum_money
from domain.billing.periods import month_period
from domain.budgets.conversion import BudgetRates
from domain.errors import InvalidAmount, ValidationError
from domain.invoicing.conversion import convert_records
from domain.invoicing.invoices import compose_lines, totals
from tests.integration.persistence import builders
from tests.unit.domain.strategies import PROPERTY, decimals

UTC_ZONE = ZoneInfo("UTC")
APRIL = month_period("2026-04", UTC_ZONE)
EXPONENT = {"JPY": 0, "EUR": 2, "KWD": 3}

charges = decimals(10**20, 18)  # at most 18 decimals, as a margin charge can have
rates = decimals(10**16, RATE_DECIMALS).filter(lambda r: r > 0)


@PROPERTY
@given(
    currency=st.sampled_from(sorted(EXPONENT)),
    calls=st.lists(
        st.tuples(st.integers(0, 29), st.sampled_from(["m/a", "m/b", "m/c"]), charges),
        min_size=1,
        max_size=30,
    ),
    early=rates,
    late=rates,
    tax=st.sampled_from([Decimal(0), Decimal("19"), Decimal("14.975")]),
)
def test_each_line_is_its_converted_charges_rounded_once_and_lines_sum_to_the_total(
    currency: str,
    calls: list[tuple[int, str, Decimal]],
    early: Decimal,
    late: Decimal,
    tax: Decimal,
) -> None:
    book = RateBook(
        (
            ExchangeRate("USD", currency, early, date(2026, 4, 1)),
            ExchangeRate("USD", currency, late, date(2026, 4, 15)),
        )
    )
    records = [
        builders.usage(
            "c",
            "k",
            model_id=model,
            started_at=APRIL.start + timedelta(days=day, hours=3),
            charge=Money(charge, "USD"),
        )
        for day, model, charge in calls
    ]
    conversions = Conversions(book, currency)
    lines = compose_lines(APRIL, convert_records(records, UTC_ZONE, conversions), [], currency)
    sums = totals(lines, tax, currency)
    step = Decimal(1).scaleb(-EXPONENT[currency])
    with localcontext() as wide:
        wide.prec = 100
        for line in lines:
            exact = sum(
                (c * (late if day >= 14 else early) for day, m, c in calls if m == line.model_id),
                Decimal(0),
            )
            assert line.exact_amount == exact
            assert line.amount.amount == exact.quantize(step, rounding=ROUND_HALF_EVEN)
    assert sums.subtotal == sum_money([line.amount for line in lines], currency)
    for amount in (sums.subtotal, sums.tax, sums.total):
        assert amount.amount == amount.amount.quantize(step)  # no finer than the minor unit
    assert sums.total == sums.subtotal + sums.tax
    assert set(conversions.applied()) <= set(book.rates)


def test_the_rate_in_force_is_the_latest_on_or_before_the_day_and_none_is_never_one() -> None:
    first = ExchangeRate("USD", "EUR", Decimal("0.9"), date(2026, 4, 1))
    second = ExchangeRate("USD", "EUR", Decimal("0.95"), date(2026, 4, 15))
    book = RateBook((second, first))
    assert book.find("USD", "EUR", date(2026, 4, 14)) == first
    assert book.find("USD", "EUR", date(2026, 4, 15)) == second
    assert book.find("USD", "EUR", date(2026, 3, 31)) is None
    assert book.find("EUR", "USD", date(2026, 5, 1)) is None
    with pytest.raises(MissingRate, match="no exchange rate EUR->USD in force on 2026-05-01"):
        Conversions(book, "USD").convert(Decimal(1), "EUR", date(2026, 5, 1))
    assert Conversions(book, "USD").convert(Decimal("1.5"), "USD", date(2026, 5, 1)) == Decimal(
        "1.5"
    )


@pytest.mark.parametrize(
    ("rate", "error"),
    [("0", InvalidAmount), ("-1", InvalidAmount), ("0.1234567890123", InvalidAmount)],
)
def test_rates_are_positive_and_bounded(rate: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        ExchangeRate("USD", "EUR", Decimal(rate), date(2026, 4, 1))
    with pytest.raises(ValidationError):
        ExchangeRate("USD", "USD", Decimal(1), date(2026, 4, 1))


DAILY = """Date, USD, JPY, BGN, CYP, KWD,
 04 December 2026, 1.0532, 161.52, 1.9558, N/A, 0.3245,
"""
HISTORY = """Date,USD,JPY,CYP,
2026-12-04,1.0532,161.52,N/A,
2026-12-03,1.0500,160.00,,
"""


def test_ecb_files_parse_and_cross_rates_are_rounded_once_half_even() -> None:
    [day] = parse_reference_rates(DAILY)
    assert day.day == date(2026, 12, 4)
    assert day.per_eur == {
        "USD": Decimal("1.0532"),
        "JPY": Decimal("161.52"),
        "BGN": Decimal("1.9558"),
        "KWD": Decimal("0.3245"),
    }
    days = parse_reference_rates(HISTORY)
    assert [d.day for d in days] == [date(2026, 12, 4), date(2026, 12, 3)]
    derived = {
        (r.base, r.quote, r.effective_on): r.rate for r in derive_rates(days, ["USD", "EUR"], "ECB")
    }
    assert derived[("EUR", "USD", date(2026, 12, 4))] == Decimal("1.0532")
    assert derived[("USD", "EUR", date(2026, 12, 4))] == Decimal("0.949487276870")
    assert derived[("USD", "JPY", date(2026, 12, 3))] == Decimal("152.380952380952")
    assert ("USD", "CYP", date(2026, 12, 4)) not in derived
    assert cross_rate(Decimal(3), Decimal(1)) == Decimal("0.333333333333")
    with pytest.raises(ValidationError, match="line 2"):
        parse_reference_rates("Date,USD\n2026-13-01,1.0\n")
    with pytest.raises(ValidationError, match="not an ECB"):
        parse_reference_rates("day,USD\n")


def test_a_record_converts_at_the_agency_days_rate() -> None:
    """23:30 UTC on the 14th is already the 15th in Berlin: the 15th's rate applies."""
    berlin = ZoneInfo("Europe/Berlin")
    book = RateBook(
        (
            ExchangeRate("USD", "EUR", Decimal("0.9"), date(2026, 4, 1)),
            ExchangeRate("USD", "EUR", Decimal("0.8"), date(2026, 4, 15)),
        )
    )
    record = builders.usage(
        "c", "k", started_at=datetime(2026, 4, 14, 23, 30, tzinfo=UTC), charge=Money("10", "USD")
    )
    [group] = convert_records([record], berlin, Conversions(book, "EUR"))
    assert group.charge == Money("8.0", "EUR")
    assert group.source == Money("10", "USD")


def test_budget_amounts_convert_to_what_a_counter_stores() -> None:
    rates = BudgetRates(
        RateBook((ExchangeRate("USD", "EUR", Decimal("0.923456789012"), date(2026, 4, 1)),)),
        date(2026, 4, 2),
    )
    charge = Decimal("0.000000000000000001")  # 18 decimals: exact product has 30
    assert rates.convert(charge, "USD", "EUR") == Decimal("0.000000000000000001")
    assert rates.convert(charge, "USD", "EUR", hold=True) == Decimal("0.000000000000000001")
    assert rates.convert(Decimal("0.000000000000000003"), "USD", "EUR") == Decimal(
        "0.000000000000000003"
    )
    assert rates.convert(Decimal(2), "USD", "EUR") == Decimal("1.846913578024")
    assert rates.convert(Decimal(2), "EUR", "EUR") == Decimal(2)
    with pytest.raises(MissingRate):
        rates.convert(Decimal(1), "USD", "JPY")
