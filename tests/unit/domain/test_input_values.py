"""The one parser of typed decimals and the one check of typed text: what they accept is exactly
what every backend can store (Numeric(38, 18); text without NUL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import EXACT, decimal_places, input_decimal
from domain.errors import InvalidAmount, ValidationError
from domain.text import check_text

# Decimals of any size and precision, exponents far past the default context's included.
ANY_DECIMAL = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in digits), exponent)),
    st.sampled_from([0, 1]),
    st.text("0123456789", min_size=1, max_size=30),
    st.integers(-(10**9), 10**9) | st.integers(-40, 40),
)


@given(ANY_DECIMAL)
def test_input_decimal_accepts_exactly_what_numeric_38_18_stores(value: Decimal) -> None:
    storable = (value == 0 or value.adjusted() < 20) and decimal_places(value) <= 18
    if storable:
        assert input_decimal(value, what="x") == value
        assert input_decimal(str(value), what="x") == value
    else:
        with pytest.raises(InvalidAmount):
            input_decimal(str(value), what="x")


@given(ANY_DECIMAL)
def test_decimal_places_never_overflows(value: Decimal) -> None:
    places = decimal_places(value)
    assert places >= 0
    if places <= 20 and abs(value.adjusted()) <= 20:
        assert value.quantize(Decimal(1).scaleb(-places), context=EXACT) == value


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "sNaN", "1e999999999", "x", ""])
def test_input_decimal_refuses_what_is_not_a_storable_number(value: str) -> None:
    with pytest.raises(InvalidAmount):
        input_decimal(value, what="an amount")


def test_the_limits_of_numeric_38_18() -> None:
    assert input_decimal("99999999999999999999.999999999999999999", what="x")
    assert input_decimal("-99999999999999999999", what="x")
    assert input_decimal("1E+19", what="x") == Decimal(10) ** 19
    with pytest.raises(InvalidAmount, match="at most 20 digits"):
        input_decimal("100000000000000000000", what="x")
    with pytest.raises(InvalidAmount, match="more than 18 decimals"):
        input_decimal("0.0000000000000000001", what="x")
    with pytest.raises(InvalidAmount, match="more than 2 decimals"):
        input_decimal("0.001", what="x", places=2)


def test_text_refuses_nul_everywhere_and_controls_in_single_lines() -> None:
    assert check_text("Acme Ltd", "a name", max_length=200) == "Acme Ltd"
    assert check_text("line one\n\tline two\r\n", "a reason", max_length=200, multiline=True)
    for text, multiline in (("a\x00b", True), ("a\x00b", False)):
        with pytest.raises(ValidationError, match="NUL"):
            check_text(text, "a name", max_length=200, multiline=multiline)
    for text in ("a\nb", "a\x1b[31mb", "a\x7fb", "a\x85b"):
        with pytest.raises(ValidationError, match="control characters"):
            check_text(text, "a name", max_length=200)
    with pytest.raises(ValidationError, match="control characters"):
        check_text("a\x1bb", "a reason", max_length=200, multiline=True)
    with pytest.raises(ValidationError, match="at most 3"):
        check_text("abcd", "a name", max_length=3)
