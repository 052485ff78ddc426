"""Exchange rates as data, and the one rule for which rate converts an amount (docs/currencies.md).

A rate says: 1 `base` = `rate` `quote`, in force from `effective_on` (a day in the agency's time
zone) until the next rate of the same pair. A call's cost and charge convert at the rate in force
on the day the call started; a monthly fixed amount at the period's first day. There is no
implicit rate: the same currency converts at exactly 1, any other pair without a rate in force
is a `MissingRate` (never a silent 1.0). Rates have at most RATE_DECIMALS decimals, so the
product of a charge (at most 18 decimals) and a rate stays exact within 30 decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from domain.billing.money import EXACT, MAX_STORED_DECIMALS, bounded_decimal, validate_currency
from domain.errors import InvalidAmount, ValidationError

RATE_DECIMALS = 12  # a charge (18 decimals) x a rate stays within 30 decimals
CONVERTED_DECIMALS = MAX_STORED_DECIMALS + RATE_DECIMALS
MAX_SOURCE_LENGTH = 100


class MissingRate(ValidationError):
    """No rate for a pair on a day: what needs it waits (an invoice is refused, an alert says
    so) rather than guessing."""

    def __init__(self, base: str, quote: str, on: date) -> None:
        super().__init__(
            f"no exchange rate {base}->{quote} in force on {on.isoformat()}: set one "
            f"(`bizgraph rates set {base} {quote} RATE --effective {on.isoformat()}`, the "
            "Rates page or the setExchangeRate mutation), then close again"
        )
        self.base = base
        self.quote = quote
        self.on = on


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    base: str
    quote: str
    rate: Decimal  # 1 base = rate quote
    effective_on: date
    source: str = "manual"

    def __post_init__(self) -> None:
        validate_currency(self.base)
        validate_currency(self.quote)
        if self.base == self.quote:
            raise ValidationError(f"a rate converts between two currencies, not {self.base}")
        rate = bounded_decimal(self.rate, places=RATE_DECIMALS, what="an exchange rate")
        if rate <= 0:
            raise InvalidAmount("an exchange rate is positive")
        object.__setattr__(self, "rate", rate)
        source = self.source.strip()
        if not source or len(source) > MAX_SOURCE_LENGTH or not source.isprintable():
            raise ValidationError(
                f"a rate's source is 1 to {MAX_SOURCE_LENGTH} printable characters"
            )
        object.__setattr__(self, "source", source)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.base, self.quote)

    def convert(self, amount: Decimal) -> Decimal:
        """The exact product, never rounded here (rounding is per invoice line)."""
        return EXACT.multiply(amount, self.rate)

    def __str__(self) -> str:
        return (
            f"1 {self.base} = {self.rate} {self.quote} "
            f"(from {self.effective_on.isoformat()}, {self.source})"
        )


@dataclass(frozen=True, slots=True)
class RateBook:
    """Every stored rate, by pair, oldest first: `find` is the rule of which one applies."""

    rates: tuple[ExchangeRate, ...] = ()
    _by_pair: dict[tuple[str, str], tuple[ExchangeRate, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_pair: dict[tuple[str, str], list[ExchangeRate]] = {}
        for rate in sorted(self.rates, key=lambda r: r.effective_on):
            by_pair.setdefault(rate.pair, []).append(rate)
        object.__setattr__(self, "_by_pair", {k: tuple(v) for k, v in by_pair.items()})

    def find(self, base: str, quote: str, on: date) -> ExchangeRate | None:
        """The rate of the pair in force on the day: the latest effective on or before it.
        Only the stored direction counts (an inverse would need a division, not exact)."""
        found = None
        for rate in self._by_pair.get((base, quote), ()):
            if rate.effective_on > on:
                break
            found = rate
        return found

    def require(self, base: str, quote: str, on: date) -> ExchangeRate:
        rate = self.find(base, quote, on)
        if rate is None:
            raise MissingRate(base, quote, on)
        return rate


@dataclass(slots=True)
class Conversions:
    """Converts amounts into one currency, remembering every rate it used (an invoice states
    them). Same currency: the amount as it is, no rate."""

    book: RateBook
    currency: str
    used: dict[tuple[str, str, date], ExchangeRate] = field(default_factory=dict)

    def factor(self, source: str, on: date) -> ExchangeRate | None:
        if source == self.currency:
            return None
        rate = self.book.require(source, self.currency, on)
        self.used[(rate.base, rate.quote, rate.effective_on)] = rate
        return rate

    def convert(self, amount: Decimal, source: str, on: date) -> Decimal:
        rate = self.factor(source, on)
        return amount if rate is None else rate.convert(amount)

    def applied(self) -> tuple[ExchangeRate, ...]:
        return tuple(sorted(self.used.values(), key=lambda r: (r.base, r.quote, r.effective_on)))


def cross_rate(base_per_eur: Decimal, quote_per_eur: Decimal) -> Decimal:
    """1 base = (quote per EUR / base per EUR) quote, rounded half-even to RATE_DECIMALS: the
    one rounding of a derived rate (docs/currencies.md); the stored result is then exact."""
    if base_per_eur <= 0 or quote_per_eur <= 0:
        raise InvalidAmount("reference rates are positive")
    exact = EXACT.divide(quote_per_eur, base_per_eur)
    return exact.quantize(
        Decimal(1).scaleb(-RATE_DECIMALS), rounding=ROUND_HALF_EVEN, context=EXACT
    )


@dataclass(frozen=True, slots=True)
class ReferenceDay:
    """One row of the ECB reference rates: each currency's units per 1 EUR on a day."""

    day: date
    per_eur: dict[str, Decimal]


def derive_rates(
    days: Iterable[ReferenceDay], bases: Sequence[str], source: str
) -> list[ExchangeRate]:
    """For each day and base: base -> every other currency of the day (EUR included). From EUR
    the published figure as it is; otherwise the cross rate of `cross_rate`."""
    found: list[ExchangeRate] = []
    for row in days:
        quotes = {"EUR": Decimal(1), **row.per_eur}
        for base in bases:
            if base not in quotes:
                continue
            for quote, per_eur in quotes.items():
                if quote == base:
                    continue
                rate = per_eur if base == "EUR" else cross_rate(quotes[base], per_eur)
                found.append(ExchangeRate(base, quote, rate, row.day, source))
    return found
