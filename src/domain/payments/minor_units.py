"""Stripe counts money in integer minor units (cents, yen, fils); Bizgraph in exact Decimals.

The conversion happens at the processor's boundary only, with the ISO 4217 exponents of
`domain.billing.money` (JPY 0, USD 2, KWD 3) except where Stripe's API counts otherwise
(docs.stripe.com/currencies, "special cases"): ISK in hundredths though only whole krónur
are charged, MGA in whole ariary. An amount that is not a whole number of the processor's
units is refused rather than rounded, because an invoice total or a top-up already is one.

What may be charged is stricter still: Stripe takes three-decimal currencies in steps of ten
minor units and ISK in whole krónur. `chargeable_units` checks an amount Bizgraph asks for;
`payable` is the smallest chargeable amount covering an invoice's balance (the excess then
becomes an account credit, as any over-payment does).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from types import MappingProxyType

from domain.billing.money import EXACT, Money, minor_unit, validate_currency
from domain.errors import InvalidAmount

# Stripe refuses amounts above eight digits in most currencies; a bound that also keeps
# hostile event bodies from building huge Decimals.
MAX_MINOR_UNITS = 10**12
# Where Stripe's unit differs from the ISO 4217 minor unit: the exponent Stripe uses.
_PROCESSOR_EXPONENTS = MappingProxyType({"ISK": 2, "MGA": 0})
# What Stripe charges in steps of more than one of its units.
_CHARGE_STEPS = MappingProxyType(
    {"ISK": 100, "BHD": 10, "JOD": 10, "KWD": 10, "OMR": 10, "TND": 10}
)


def processor_unit(currency: str) -> Decimal:
    """The amount one of Stripe's integer units of `currency` is worth."""
    exponent = _PROCESSOR_EXPONENTS.get(currency)
    return minor_unit(currency) if exponent is None else Decimal(1).scaleb(-exponent)


def to_minor_units(amount: Money) -> int:
    """The integer Stripe writes for `amount` (e.g. 12.34 USD -> 1234, 500 JPY -> 500,
    5 ISK -> 500)."""
    units = EXACT.divide(amount.amount, processor_unit(amount.currency))
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
    return Money(EXACT.multiply(Decimal(units), processor_unit(code)), code)


def chargeable_units(amount: Money) -> int:
    """The integer to charge `amount` with; InvalidAmount when Stripe cannot charge it (a
    fraction of its unit, or not a whole step: 1.234 KWD, 0.5 MGA)."""
    units = to_minor_units(amount)
    step = _CHARGE_STEPS.get(amount.currency, 1)
    if units % step:
        smallest = EXACT.multiply(Decimal(step), processor_unit(amount.currency))
        raise InvalidAmount(
            f"{amount} cannot be charged: the payment processor takes {amount.currency} in "
            f"steps of {smallest}"
        )
    return units


def payable(amount: Money) -> Money:
    """The smallest amount at least `amount` that the processor can charge (an invoice's
    balance of 1.234 KWD is paid as 1.240; the 0.006 over becomes an account credit)."""
    step = EXACT.multiply(
        Decimal(_CHARGE_STEPS.get(amount.currency, 1)), processor_unit(amount.currency)
    )
    steps = EXACT.divide(amount.amount, step).to_integral_value(rounding=ROUND_CEILING)
    return Money(EXACT.multiply(steps, step), amount.currency)


def processor_currency(currency: str) -> str:
    """Stripe writes currency codes in lower case."""
    return validate_currency(currency).lower()


def currency_from_processor(code: str) -> str:
    return validate_currency(code.upper() if isinstance(code, str) else "")
