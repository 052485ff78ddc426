"""Stripe's integer minor units <-> exact Money, per ISO 4217 exponent and Stripe's special
cases, what Stripe can charge, and how a payment meets an invoice (partial, exact, over)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import Money, minor_unit, round_to_minor
from domain.errors import InvalidAmount
from domain.payments.minor_units import (
    MAX_MINOR_UNITS,
    chargeable_units,
    from_minor_units,
    payable,
    processor_currency,
    to_minor_units,
)
from domain.payments.received import apply_payment


@pytest.mark.parametrize(
    ("currency", "amount", "units"),
    [
        ("JPY", "1500", 1500),  # exponent 0: a yen is the minor unit
        ("USD", "12.34", 1234),  # exponent 2
        ("USD", "0.01", 1),
        ("KWD", "1.234", 1234),  # exponent 3: fils
        ("KWD", "0.001", 1),
        ("XOF", "2500", 2500),  # ISO exponent 0, as Stripe counts it
        ("ISK", "5", 500),  # Stripe counts ISK in hundredths (ISO: no minor unit)
        ("MGA", "3", 3),  # Stripe counts whole ariary (ISO: 2 decimals)
    ],
)
def test_each_exponent_converts_exactly_both_ways(currency: str, amount: str, units: int) -> None:
    money = Money(Decimal(amount), currency)
    assert to_minor_units(money) == units
    back = from_minor_units(units, processor_currency(currency))
    assert back == money
    assert back.currency == currency


@pytest.mark.parametrize(
    ("currency", "amount"), [("JPY", "1.5"), ("USD", "0.001"), ("KWD", "0.0005")]
)
def test_a_fraction_of_a_minor_unit_is_refused_not_rounded(currency: str, amount: str) -> None:
    with pytest.raises(InvalidAmount):
        to_minor_units(Money(Decimal(amount), currency))


def test_bad_units_from_the_processor_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        from_minor_units(True, "usd")
    with pytest.raises(InvalidAmount):
        from_minor_units(MAX_MINOR_UNITS + 1, "usd")
    with pytest.raises(InvalidAmount):
        from_minor_units(100, "us")


currencies = st.sampled_from(["JPY", "USD", "EUR", "KWD", "BHD", "XOF", "ISK", "MGA"])


@given(currencies, st.integers(min_value=-MAX_MINOR_UNITS, max_value=MAX_MINOR_UNITS))
def test_minor_units_round_trip(currency: str, units: int) -> None:
    money = from_minor_units(units, currency.lower())
    assert to_minor_units(money) == units


@given(
    st.sampled_from(["JPY", "USD", "EUR", "KWD", "BHD", "XOF"]),
    st.integers(min_value=0, max_value=10**8),
    st.integers(0, 10**9),
)
def test_money_rounded_to_minor_round_trips(currency: str, whole: int, fraction: int) -> None:
    amount = round_to_minor(Decimal(whole) + Decimal(fraction) / Decimal(10**9), currency)
    money = Money(amount, currency)
    assert from_minor_units(to_minor_units(money), currency) == money


@pytest.mark.parametrize(
    ("currency", "amount", "refused"),
    [
        ("KWD", "1.240", False),
        ("KWD", "1.234", True),  # Stripe takes three-decimal currencies in steps of 0.010
        ("ISK", "5", False),
        ("MGA", "0.50", True),  # whole ariary only
        ("USD", "0.01", False),
    ],
)
def test_what_the_processor_can_charge(currency: str, amount: str, refused: bool) -> None:
    money = Money(Decimal(amount), currency)
    if refused:
        with pytest.raises(InvalidAmount, match=r"cannot be charged|whole number"):
            chargeable_units(money)
    else:
        assert chargeable_units(money) == to_minor_units(money)


@given(
    st.sampled_from(["JPY", "USD", "KWD", "BHD", "XOF", "ISK", "MGA", "TND"]),
    st.integers(min_value=0, max_value=10**9),  # ISK's hundredths stay under the 10^12 bound
)
def test_an_invoice_balance_is_paid_with_the_least_chargeable_amount_over_it(
    currency: str, minor: int
) -> None:
    balance = Money(Decimal(minor) * minor_unit(currency), currency)  # as invoices round it

    to_pay = payable(balance)

    step = payable(Money(minor_unit(currency), currency)).amount  # the least chargeable
    chargeable_units(to_pay)  # never refused
    assert to_pay.amount - step < balance.amount <= to_pay.amount  # the least that covers it


def usd(value: str) -> Money:
    return Money(Decimal(value), "USD")


def test_exact_payment_settles_the_invoice() -> None:
    applied = apply_payment(usd("100.00"), usd("0"), usd("100.00"))
    assert (applied.applied, applied.excess, applied.settles) == (usd("100"), usd("0"), True)


def test_partial_payment_leaves_the_rest_open() -> None:
    applied = apply_payment(usd("100.00"), usd("0"), usd("40.00"))
    assert (applied.applied, applied.excess, applied.settles) == (usd("40"), usd("0"), False)
    rest = apply_payment(usd("100.00"), usd("40.00"), usd("60.00"))
    assert rest.settles
    assert rest.excess == usd("0")


def test_over_payment_keeps_the_excess() -> None:
    applied = apply_payment(usd("100.00"), usd("30.00"), usd("90.00"))
    assert (applied.applied, applied.excess, applied.settles) == (usd("70"), usd("20"), True)


@given(st.integers(1, 10**8), st.integers(0, 10**8), st.integers(1, 10**8))
def test_a_payment_is_never_lost(total: int, before: int, paid: int) -> None:
    result = apply_payment(
        from_minor_units(total, "usd"),
        from_minor_units(before, "usd"),
        from_minor_units(paid, "usd"),
    )
    assert result.applied + result.excess == from_minor_units(paid, "usd")
    assert result.applied.amount >= 0
    assert result.excess.amount >= 0
