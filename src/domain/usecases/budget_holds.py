"""The holds a call's budgets take (docs/budgets.md): the worst case over the model and its
fallbacks, and whether the hold still covers one more attempt on a fallback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from domain.billing.money import exact_sum
from domain.billing.periods import Period
from domain.budgets.limits import Budget, Hold, hold_amount, worst_case
from domain.byok.billing import byok_worst_case
from domain.byok.credentials import BudgetBasis
from domain.metering.request_bounds import RequestBound
from domain.usecases.grants import (
    Attempt,
    CallGrant,
    PricedModel,
    measured,
    priced_fallback,
    usage_record,
)


async def call_holds(grant: CallGrant, bound: RequestBound, period: Period) -> list[Hold]:
    """One hold per budget of the call: the worst case over its model and each fallback (a
    fallback may cost more)."""
    targets = [grant.target]
    for model_id in grant.target.model.fallbacks:  # a fallback may cost more
        if (fallback := await priced_fallback(grant, model_id)) is not None:
            targets.append(fallback)
    if grant.byok is None and grant.fx is None:  # the usual path: one currency, no own key
        pairs = [(t.model, t.price) for t in targets]
        return [
            Hold(
                budget,
                budget.counter_period(period),
                hold_amount(budget, grant.plan, pairs, bound),
                budget.basis_under(grant.plan),
            )
            for budget in grant.budgets
        ]
    return [
        Hold(
            budget,
            budget.counter_period(period),
            max(target_worst(grant, budget, bound, t) for t in targets),
            budget.basis_under(grant.plan),
        )
        for budget in grant.budgets
    ]


def target_worst(
    grant: CallGrant, budget: Budget, bound: RequestBound, target: PricedModel
) -> Decimal:
    """The most one attempt on `target` can put on `budget`: with the client's own key, its
    worst case in the client's BYOK budget basis (fee or list cost); otherwise the usual
    worst case (an agency-paid fallback the settings forbid is counted too: it only
    over-holds)."""
    byok, model = grant.byok, target.model
    if byok is not None and byok.credential_for(model.id, model.provider) is not None:
        prompt, output = bound.prompt_tokens(model), bound.output_tokens(model)
        # a wallet is drawn by what the client is charged (the fee), whatever the basis
        settings = (
            replace(byok.settings, budget_basis=BudgetBasis.FEE) if budget.wallet else byok.settings
        )
        amount = byok_worst_case(settings, target.price, prompt, output)
    else:
        amount = worst_case(budget, grant.plan, model, target.price, bound)
    if grant.fx is None:
        return amount
    # in the budget's currency, at the rate of the call's day (docs/currencies.md)
    return grant.fx.convert(amount, target.price.currency, budget.limit.currency, hold=True)


async def covers(
    grant: CallGrant,
    bound: RequestBound,
    billed: Sequence[Attempt],
    target: PricedModel,
    period: Period,
) -> bool:
    """Whether the call's hold still covers what its failed attempts were billed plus the
    worst case of one more attempt on `target` (a fallback), on every budget. The hold is
    recomputed from the same inputs, so it is the amount reserved at the start."""
    if not grant.budgets:
        return True
    records = [usage_record(grant, a) for a in billed]
    held = {h.scope: h.amount for h in await call_holds(grant, bound, period)}
    for budget in grant.budgets:
        spent = exact_sum(*(measured(grant, budget, r) for r in records))
        worst = target_worst(grant, budget, bound, target)
        if exact_sum(spent, worst) > held[budget.scope]:
            return False
    return True
