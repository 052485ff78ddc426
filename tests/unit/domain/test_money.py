"""Money: exact Decimal amounts with a currency; rounding only in `round_to_minor`."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import (
    Money,
    bounded_decimal,
    minor_unit,
    round_to_minor,
    sum_money,
    to_decimal,
)
from domain.errors import CurrencyMismatch, InvalidAmount
from tests.unit.domain.strategies import PROPERTY

# Amounts the storage can hold exactly: Numeric(38, 18), i.e. 20 integer digits, 18 decimals.
storable = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    st.integers(min_value=0, max_value=18),
).filter(lambda d: abs(d) < Decimal(10) ** 20)

NOT_EXACT = [0.1, 1.0, float("nan"), float("inf"), True, False, None, [1], b"1"]


class TestRefusesInexactInput:
    @pytest.mark.parametrize("value", NOT_EXACT, ids=repr)
    def test_to_decimal_refuses(self, value: object) -> None:
        with pytest.raises(InvalidAmount):
            to_decimal(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", NOT_EXACT, ids=repr)
    def test_money_refuses(self, value: object) -> None:
        with pytest.raises(InvalidAmount):
            Money(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", NOT_EXACT, ids=repr)
    def test_times_refuses(self, value: object) -> None:
        with pytest.raises(InvalidAmount):
            Money(Decimal("1.00")).times(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", NOT_EXACT, ids=repr)
    def test_bounded_decimal_refuses(self, value: object) -> None:
        with pytest.raises(InvalidAmount):
            bounded_decimal(value, places=6, what="price")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "value",
        ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("-Inf")],
        ids=repr,
    )
    def test_non_finite_refused(self, value: str | Decimal) -> None:
        with pytest.raises(InvalidAmount):
            Money(value)  # type: ignore[arg-type]
        with pytest.raises(InvalidAmount):
            to_decimal(value)

    @pytest.mark.parametrize("value", ["", "abc", "1,5", "1.2.3"])
    def test_garbage_strings_refused(self, value: str) -> None:
        with pytest.raises(InvalidAmount):
            to_decimal(value)

    def test_invalid_amount_is_a_value_error(self) -> None:
        assert issubclass(InvalidAmount, ValueError)

    def test_float_is_not_silently_converted(self) -> None:
        with pytest.raises(InvalidAmount, match="float"):
            Money(0.1)  # type: ignore[arg-type]


class TestAcceptsExactInput:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(Decimal("1.10"), Decimal("1.10")), (3, Decimal(3)), ("0.000001", Decimal("0.000001"))],
    )
    def test_to_decimal(self, value: Decimal | int | str, expected: Decimal) -> None:
        result = to_decimal(value)
        assert isinstance(result, Decimal)
        assert result == expected

    def test_money_coerces_int_and_str_to_decimal(self) -> None:
        assert Money(5).amount == Decimal(5)  # type: ignore[arg-type]
        assert isinstance(Money("2.50").amount, Decimal)  # type: ignore[arg-type]
        assert Money("2.50").amount.as_tuple().exponent == -2  # type: ignore[arg-type]

    def test_default_currency_is_usd(self) -> None:
        assert Money(Decimal(1)).currency == "USD"

    @pytest.mark.parametrize("currency", ["usd", "US", "USDD", "U$D", "ÉUR", ""])
    def test_bad_currency_refused(self, currency: str) -> None:
        with pytest.raises(InvalidAmount):
            Money(Decimal(1), currency)


class TestBoundedDecimal:
    def test_accepts_up_to_places(self) -> None:
        assert bounded_decimal("0.123456", places=6, what="price") == Decimal("0.123456")

    def test_refuses_more_places(self) -> None:
        with pytest.raises(InvalidAmount, match="more than 6 decimals"):
            bounded_decimal("0.1234567", places=6, what="price")

    def test_trailing_zeros_do_not_count(self) -> None:
        assert bounded_decimal("1.50000000", places=6, what="price") == Decimal("1.5")

    def test_refuses_negative(self) -> None:
        with pytest.raises(InvalidAmount, match="negative"):
            bounded_decimal("-0.01", places=6, what="price")

    def test_large_integers_have_no_decimals(self) -> None:
        assert bounded_decimal(Decimal("1E+3"), places=0, what="x") == 1000


class TestCurrencies:
    def test_mixed_currencies_refused(self) -> None:
        usd, eur = Money(Decimal(1), "USD"), Money(Decimal(1), "EUR")
        with pytest.raises(CurrencyMismatch):
            _ = usd + eur
        with pytest.raises(CurrencyMismatch):
            _ = usd - eur
        with pytest.raises(CurrencyMismatch):
            _ = usd < eur
        with pytest.raises(CurrencyMismatch):
            _ = usd <= eur
        with pytest.raises(CurrencyMismatch):
            sum_money([usd, eur], "USD")

    def test_sum_money_in_wrong_currency_refused(self) -> None:
        with pytest.raises(CurrencyMismatch):
            sum_money([Money(Decimal(1), "EUR")], "USD")

    def test_sum_of_nothing_is_zero_in_that_currency(self) -> None:
        assert sum_money([], "EUR") == Money.zero("EUR")

    def test_operations_keep_the_currency(self) -> None:
        a, b = Money(Decimal("1.5"), "EUR"), Money(Decimal("2.25"), "EUR")
        assert (a + b) == Money(Decimal("3.75"), "EUR")
        assert (a - b) == Money(Decimal("-0.75"), "EUR")
        assert -a == Money(Decimal("-1.5"), "EUR")
        assert a.times(3) == Money(Decimal("4.5"), "EUR")
        assert a < b
        assert a <= a
        assert str(a) == "1.5 EUR"


class TestExactArithmetic:
    def test_addition_beyond_28_digits_is_exact(self) -> None:
        # 38 significant digits: the default Decimal context (28) would round this.
        a = Decimal("12345678901234567890.123456789012345678")
        b = Decimal("98765432109876543210.987654321098765432")
        assert (Money(a) + Money(b)).amount == Decimal("111111111011111111101.111111110111111110")

    def test_tiny_addend_is_not_lost(self) -> None:
        big = Decimal("99999999999999999999.999999999999999999")
        tiny = Decimal("0.000000000000000001")
        assert (Money(big) + Money(tiny)).amount == Decimal(
            "100000000000000000000.000000000000000000"
        )
        almost = Decimal("99999999999999999999.999999999999999998")
        assert (Money(big) - Money(almost)).amount == tiny

    def test_times_is_exact(self) -> None:
        cost = Money(Decimal("0.000000123456789012"))
        assert cost.times(Decimal("1.123456")).amount == Decimal("0.000000138698270356265472")

    @PROPERTY
    @given(storable, storable)
    def test_add_and_subtract_are_exact(self, a: Decimal, b: Decimal) -> None:
        total = (Money(a) + Money(b)).amount
        difference = (Money(a) - Money(b)).amount
        assert Fraction(total) == Fraction(a) + Fraction(b)
        assert Fraction(difference) == Fraction(a) - Fraction(b)

    @PROPERTY
    @given(storable, storable)
    def test_arithmetic_never_rounds_the_exponent(self, a: Decimal, b: Decimal) -> None:
        exp_a, exp_b = a.as_tuple().exponent, b.as_tuple().exponent
        assert isinstance(exp_a, int)
        assert isinstance(exp_b, int)
        assert (Money(a) + Money(b)).amount.as_tuple().exponent == min(exp_a, exp_b)
        assert (Money(a) - Money(b)).amount.as_tuple().exponent == min(exp_a, exp_b)
        assert (-Money(a)).amount.as_tuple().exponent == exp_a

    @PROPERTY
    @given(storable, storable)
    def test_times_is_exact_and_keeps_every_digit(self, a: Decimal, factor: Decimal) -> None:
        product = Money(a).times(factor).amount
        assert Fraction(product) == Fraction(a) * Fraction(factor)
        exp_a, exp_f = a.as_tuple().exponent, factor.as_tuple().exponent
        assert isinstance(exp_a, int)
        assert isinstance(exp_f, int)
        assert product.as_tuple().exponent == exp_a + exp_f

    @PROPERTY
    @given(st.lists(storable, max_size=20))
    def test_sum_money_is_exact(self, amounts: list[Decimal]) -> None:
        total = sum_money([Money(a, "EUR") for a in amounts], "EUR")
        assert Fraction(total.amount) == sum((Fraction(a) for a in amounts), Fraction(0))
        assert total.currency == "EUR"


class TestRounding:
    @pytest.mark.parametrize(
        ("amount", "expected"),
        [
            ("0.125", "0.12"),
            ("0.135", "0.14"),
            ("0.145", "0.14"),
            ("0.155", "0.16"),
            ("-0.125", "-0.12"),
            ("-0.135", "-0.14"),
            ("0.1250000000000001", "0.13"),
            ("2.675", "2.68"),
            ("1", "1.00"),
            ("12345678901234567890.005", "12345678901234567890.00"),
        ],
    )
    def test_half_even_to_the_cent(self, amount: str, expected: str) -> None:
        rounded = round_to_minor(Decimal(amount), "USD")
        assert rounded == Decimal(expected)
        assert rounded.as_tuple().exponent == -2

    @pytest.mark.parametrize(
        ("currency", "amount", "expected"),
        [
            ("JPY", "2.5", "2"),
            ("JPY", "3.5", "4"),
            ("JPY", "100.49", "100"),
            ("KRW", "0.5", "0"),
            ("BHD", "1.0005", "1.000"),
            ("BHD", "1.0015", "1.002"),
            ("EUR", "0.005", "0.00"),
        ],
    )
    def test_minor_units_per_currency(self, currency: str, amount: str, expected: str) -> None:
        rounded = round_to_minor(Decimal(amount), currency)
        assert rounded == Decimal(expected)
        assert str(rounded) == expected

    def test_minor_unit(self) -> None:
        assert minor_unit("USD") == Decimal("0.01")
        assert minor_unit("JPY") == Decimal(1)
        assert minor_unit("KWD") == Decimal("0.001")

    def test_rounded_money(self) -> None:
        assert Money(Decimal("10.125"), "EUR").rounded() == Money(Decimal("10.12"), "EUR")
        assert Money(Decimal("10.5"), "JPY").rounded().amount.as_tuple().exponent == 0

    def test_money_is_not_rounded_on_construction(self) -> None:
        assert Money(Decimal("0.000000000000000001")).amount == Decimal("1E-18")

    @PROPERTY
    @given(storable)
    def test_rounding_is_within_half_a_minor_unit(self, amount: Decimal) -> None:
        rounded = round_to_minor(amount, "USD")
        assert abs(rounded - amount) <= Decimal("0.005")
        assert rounded.as_tuple().exponent == -2
        assert round_to_minor(rounded, "USD") == rounded
