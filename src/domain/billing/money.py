"""Money, prices per million tokens and the one rounding helper.

Precise amounts (usage cost, per-call charge, ledger accruals) stay exact; only `round_to_minor`
quantizes, always ROUND_HALF_EVEN, where product.md says rounding happens (invoice lines, tax,
prorated fixed amounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from types import MappingProxyType

from domain.errors import CurrencyMismatch, InvalidAmount, ValidationError

# Minor-unit exponents that differ from 2 (ISO 4217's list); every other currency uses cents.
_NO_MINOR_UNIT = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_MINOR_UNITS = MappingProxyType(
    {
        **dict.fromkeys(_NO_MINOR_UNIT.split(), 0),
        **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
        **dict.fromkeys(["CLF", "UYW"], 4),
    }
)
# Wide enough that exact products of bounded inputs never round (product.md "Money").
EXACT = Context(prec=60)
MAX_PRICE_DECIMALS = 6
PER_MILLION = Decimal(1_000_000)  # prices are per million tokens
MAX_PERCENT_DECIMALS = 4
# What an amount column holds (Numeric(38, 18), product.md "Money"): 20 digits before the point.
MAX_INTEGER_DIGITS = 20
MAX_STORED_DECIMALS = 18


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Coerce an exact input to Decimal; floats are refused, not converted."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidAmount(f"amounts must be Decimal, int or str, not {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation as exc:
        raise InvalidAmount(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise InvalidAmount(f"not a finite number: {value!r}")
    return result


def exact_sum(*values: Decimal) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def decimal_places(value: Decimal) -> int:
    """Decimals after trailing zeros are dropped; computed from the digits, so an exponent of
    any size (`1e-999999999`) is measured without a context overflow."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing_zeros == len(digits):
        return 0
    return max(0, -(exponent + trailing_zeros))


def input_decimal(
    value: Decimal | int | str, *, what: str, places: int = MAX_STORED_DECIMALS
) -> Decimal:
    """The one parser of a decimal someone typed (GraphQL inputs, CLI options): finite, at most
    MAX_INTEGER_DIGITS digits before the point and `places` after it, so it can be stored in
    every backend and computed with exactly; anything else is an InvalidAmount naming `what`."""
    result = to_decimal(value)
    if result != 0 and result.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmount(
            f"{what} is too large: at most {MAX_INTEGER_DIGITS} digits before the decimal point"
        )
    if decimal_places(result) > places:
        shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
        raise InvalidAmount(f"{what} has more than {places} decimals: {shown}")
    return result


def positive_minor_amount(amount: Decimal | str, currency: str, what: str) -> Money:
    """An amount someone typed that must be positive and whole in the currency's minor unit
    (a credit, a credit note): refused, never rounded."""
    value = Money(input_decimal(amount, what=what), currency)
    if value.amount <= 0 or round_to_minor(value.amount, currency) != value.amount:
        raise ValidationError(f"{what} is a positive amount in whole minor units")
    return value


def bounded_decimal(value: Decimal | int | str, *, places: int, what: str) -> Decimal:
    """A non-negative exact decimal with at most `places` decimals (keeps products finite)."""
    result = input_decimal(value, what=what, places=places)
    if result < 0:
        raise InvalidAmount(f"{what} cannot be negative")
    return result


def validate_currency(code: str) -> str:
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise InvalidAmount(f"currency must be a three-letter ISO 4217 code, not {code!r}")
    return code


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency, 2))


def round_to_minor(amount: Decimal, currency: str) -> Decimal:
    """The only rounding in Bizgraph: to the currency's minor unit, half-even."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN, context=EXACT)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Exact product; `factor` must be an exact number (never a float)."""
        return Money(EXACT.multiply(self.amount, to_decimal(factor)), self.currency)

    def rounded(self) -> Money:
        return Money(round_to_minor(self.amount, self.currency), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def sum_money(amounts: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total
