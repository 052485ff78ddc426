"""How a call made with a client's own key is billed: the catalog's list price is its "list
cost" (the provider bills the client directly), the agency's cost of goods is zero, and the
charge is the client's BYOK fee. Budgets count the fee or the list cost, as the client's
settings say; a hold covers the worst case in that basis."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.billing.money import Money
from domain.byok.credentials import BudgetBasis, ByokSettings
from domain.catalog.models import PriceVersion, max_cost
from domain.metering.tokens import TokenUsage


@dataclass(frozen=True, slots=True)
class ByokAmounts:
    cost: Money  # the agency's cost: zero
    list_cost: Money
    charge: Money  # the fee

    def measure(self, basis: BudgetBasis) -> Decimal:
        """What a budget counts of this attempt."""
        return (self.list_cost if basis is BudgetBasis.LIST_COST else self.charge).amount


def byok_amounts(
    settings: ByokSettings, price: PriceVersion, usage: TokenUsage, succeeded: bool
) -> ByokAmounts:
    """One attempt's amounts. A per-request fee is charged for an attempt that answered or
    was billed tokens by the provider; a failed attempt without usage pays nothing."""
    list_cost = price.cost(usage)
    billed = succeeded or usage.total_tokens > 0
    charge = settings.fee.charge(list_cost, usage.total_tokens, billed)
    return ByokAmounts(Money.zero(list_cost.currency), list_cost, charge)


def byok_worst_case(
    settings: ByokSettings, price: PriceVersion, prompt_tokens: int, output_tokens: int
) -> Decimal:
    """The most one BYOK attempt can put on a budget, in the client's BYOK budget basis."""
    list_cost = max_cost(price, prompt_tokens, output_tokens)
    fee = settings.fee.charge(list_cost, prompt_tokens + output_tokens, True)
    return ByokAmounts(Money.zero(list_cost.currency), list_cost, fee).measure(
        settings.budget_basis
    )
