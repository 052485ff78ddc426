"""Budgets and wallets in the client's currency for calls priced in another (docs/currencies.md).

A budget's limit is in its own currency (the client's). When a call's price is in another one,
its worst case (the hold) and what it settles are converted at the rate in force on the day
(agency time zone) the call started, read from the cached configuration snapshot, and kept
to 18 decimals as counters are (holds rounded up, spends half-even; invoices convert
exactly). When every budget of the call is in the price's currency (every deployment
billing in its prices' currency) nothing of this runs. Without a rate, a hard budget or a
wallet refuses the call rather than guess; a soft budget does not count that call (its
calls pass anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from domain.billing.exchange import MissingRate, RateBook
from domain.billing.money import EXACT, MAX_STORED_DECIMALS
from domain.budgets.limits import Budget, BudgetMode
from domain.errors import BudgetExceeded

COUNTER_STEP = Decimal(1).scaleb(-MAX_STORED_DECIMALS)


@dataclass(frozen=True, slots=True)
class BudgetRates:
    """The rates a call's budgets convert with: the book of the call's snapshot, on its day."""

    book: RateBook
    day: date

    def convert(self, amount: Decimal, source: str, target: str, *, hold: bool = False) -> Decimal:
        """In the budget's currency, to 18 decimals (what a counter stores; far below any
        minor unit): a hold rounded up so it always covers, a spend half-even."""
        if source == target:
            return amount
        exact = self.book.require(source, target, self.day).convert(amount)
        rounding = ROUND_CEILING if hold else ROUND_HALF_EVEN
        return exact.quantize(COUNTER_STEP, rounding=rounding, context=EXACT)


def needs_rates(budgets: Sequence[Budget], price_currency: str) -> bool:
    return any(budget.limit.currency != price_currency for budget in budgets)


def convertible_budgets(
    budgets: Sequence[Budget], price_currency: str, rates: BudgetRates
) -> tuple[Budget, ...]:
    """The budgets a call can be held on: a hard budget or a wallet without a rate refuses
    the call (BudgetExceeded naming the missing rate); a soft one is left out of this call."""
    kept = []
    for budget in budgets:
        currency = budget.limit.currency
        if currency == price_currency:
            kept.append(budget)
            continue
        if rates.book.find(price_currency, currency, rates.day) is not None:
            kept.append(budget)
            continue
        if budget.wallet or budget.mode is BudgetMode.HARD:
            missing = MissingRate(price_currency, currency, rates.day)
            whose = "prepaid balance" if budget.wallet else "budget"
            raise BudgetExceeded(
                f"This client's {whose} is in {currency} and this model is priced in "
                f"{price_currency}: {missing} (the call was not made)."
            )
    return tuple(kept)


def recorded_in(
    rows: Sequence[tuple[datetime, Decimal, str]], book: RateBook, currency: str, zone: tzinfo
) -> Decimal:
    """Spend recorded in other currencies than a budget's, as a new counter starts from it:
    each call at the rate in force on its day (agency time zone), to 18 decimals half-even as
    a spend is. A call of a day without a rate is left out, as it was when it was made (a soft
    budget passed it uncounted; a hard one did not exist yet, or it would have refused it)."""
    total = Decimal(0)
    for started_at, amount, source in rows:
        rate = book.find(source, currency, started_at.astimezone(zone).date())
        if rate is not None:
            converted = rate.convert(amount).quantize(
                COUNTER_STEP, rounding=ROUND_HALF_EVEN, context=EXACT
            )
            total = EXACT.add(total, converted)
    return total
