"""The BYOK fee: what a client is charged for a call made with its own provider key.

The provider bills the client directly, so the agency's cost of goods is zero; the catalog's
list price is still computed and recorded as the call's "list cost". The fee is exact (never
rounded per call); invoices round once per line, as for any usage (product.md "Money").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from domain.billing.money import (
    EXACT,
    MAX_PERCENT_DECIMALS,
    MAX_PRICE_DECIMALS,
    PER_MILLION,
    Money,
    bounded_decimal,
)
from domain.errors import InvalidAmount


class FeeKind(StrEnum):
    PERCENT_OF_LIST = "percent_of_list"  # amount: percent of the call's list cost
    PER_REQUEST = "per_request"  # amount: a flat fee per call (attempt), list currency
    PER_MILLION_TOKENS = "per_million_tokens"  # amount: per million tokens, all classes
    INCLUDED = "included"  # included in the plan: the charge is zero


_PLACES = MappingProxyType(
    {
        FeeKind.PERCENT_OF_LIST: MAX_PERCENT_DECIMALS,
        FeeKind.PER_REQUEST: MAX_PRICE_DECIMALS,
        FeeKind.PER_MILLION_TOKENS: MAX_PRICE_DECIMALS,
        FeeKind.INCLUDED: 0,
    }
)
MAX_PERCENT = Decimal(1000)


@dataclass(frozen=True, slots=True)
class ByokFee:
    kind: FeeKind
    amount: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        what = f"BYOK fee ({self.kind.value})"
        if self.kind is FeeKind.INCLUDED:
            object.__setattr__(self, "amount", Decimal(0))  # nothing to charge
            return
        amount = bounded_decimal(self.amount, places=_PLACES[self.kind], what=what)
        if self.kind is FeeKind.PERCENT_OF_LIST and amount > MAX_PERCENT:
            raise InvalidAmount(f"{what} is at most {MAX_PERCENT} percent")
        object.__setattr__(self, "amount", amount)

    def charge(self, list_cost: Money, tokens: int, billed: bool = True) -> Money:
        """The fee of one attempt: `list_cost` at the catalog's list price, `tokens` all its
        token classes together. `billed`: whether the attempt counts as a request (a failed
        attempt without usage pays no per-request fee)."""
        currency = list_cost.currency
        if self.kind is FeeKind.PERCENT_OF_LIST:
            return list_cost.times(EXACT.divide(self.amount, Decimal(100)))
        if self.kind is FeeKind.PER_REQUEST:
            return Money(self.amount if billed else Decimal(0), currency)
        if self.kind is FeeKind.PER_MILLION_TOKENS:
            per_token = EXACT.divide(self.amount, PER_MILLION)
            return Money(EXACT.multiply(per_token, Decimal(tokens)), currency)
        return Money.zero(currency)
