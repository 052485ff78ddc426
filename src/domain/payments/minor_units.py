"""Stripe counts money in integer minor units (cents, yen, fils); Bizgraph in exact Decimals.

The conversion happens at the processor's boundary only, with the ISO 4217 exponents of
`domain.billing.money` (JPY 0, USD 2, KWD 3): an amount that is not a whole number of minor
units is refused rather than rounded, because an invoice total or a top-up already is one.
"""

from __future__ import annotations

from decimal import Decimal

from domain.billing.money import EXACT, Money, minor_unit, validate_currency
from domain.errors import InvalidAmount

# Stripe refuses amounts above eight digits in most currencies; a bound that also keeps
# hostile event bodies from building huge Decimals.
MAX_MINOR_UNITS = 10**12


def to_minor_units(amount: Money) -> int:
    """The integer Stripe expects for `amount` (e.g. 12.34 USD -> 1234, 500 JPY -> 500)."""
    units = EXACT.divide(amount.amount, minor_unit(amount.currency))
    if units != units.to_integral_value():
        raise InvalidAmount(f"{amount} is not a whole number of {amount.currency} minor units")
    whole = int(units)
    if abs(whole) > MAX_MINOR_UNITS:
        raise InvalidAmount(f"{amount} is too large for the payment processor")
    return whole


def from_minor_units(units: int, currency: str) -> Money:
    """The exact amount of `units` minor units of `currency` (code in any case)."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise InvalidAmount(f"minor units must be an integer, not {type(units).__name__}")
    if abs(units) > MAX_MINOR_UNITS:
        raise InvalidAmount("amount out of range")
    code = currency_from_processor(currency)
    return Money(EXACT.multiply(Decimal(units), minor_unit(code)), code)


def processor_currency(currency: str) -> str:
    """Stripe writes currency codes in lower case."""
    return validate_currency(currency).lower()


def currency_from_processor(code: str) -> str:
    return validate_currency(code.upper() if isinstance(code, str) else "")
