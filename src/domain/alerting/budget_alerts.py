"""The alerts budgets raise: a threshold crossed by settled spend, a call a hard limit refused,
calls a soft budget could not count for want of an exchange rate.

Dedupe keys make them "once": once per threshold per period, and once per budget and hour for
refusals (a storm of refused calls stores one alert an hour)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from domain.alerting.alerts import Alert, AlertKind
from domain.billing.money import exact_sum
from domain.billing.periods import Period
from domain.budgets.limits import Budget, BudgetBasis, Refusal
from domain.ids import new_id


def owner_of(client_name: str, key_name: str | None) -> str:
    """Who a budget belongs to, as an alert names it: the client, or a key of the client."""
    return f"key {key_name!r} of {client_name}" if key_name is not None else client_name


def threshold_alert(
    budget: Budget,
    period: Period,
    basis: BudgetBasis,
    percent: int,
    spent: Decimal,
    at: datetime,
    owner: str,
) -> Alert:
    key = budget.key_id or "-"
    limit = budget.limit
    return Alert(
        id=new_id(),
        kind=AlertKind.BUDGET_THRESHOLD,
        client_id=budget.client_id,
        key_id=budget.key_id,
        dedupe_key=f"budget_threshold:{budget.client_id}:{key}:{period.start:%Y-%m}:{percent}",
        message=f"The budget of {owner} reached {percent}% of {limit} in {period.label}",
        created_at=at,
        details={
            "limit": str(limit.amount),
            "spent": str(spent),
            "percent": str(percent),
            "period": period.label,
            "basis": basis.value,  # "cost": hidden from the client's portal
            "currency": limit.currency,
        },
    )


def refusal_alert(refusal: Refusal, at: datetime, owner: str) -> Alert:
    budget, period = refusal.hold.budget, refusal.hold.period
    hour = at.astimezone(UTC)
    if budget.wallet:
        return wallet_refusal_alert(refusal, at, owner)
    key = budget.key_id or "-"
    return Alert(
        id=new_id(),
        kind=AlertKind.HARD_LIMIT_REFUSED,
        client_id=budget.client_id,
        key_id=budget.key_id,
        dedupe_key=(
            f"hard_limit_refused:{budget.client_id}:{key}:{period.start:%Y-%m}:{hour:%Y-%m-%dT%H}"
        ),
        message=f"The hard budget of {owner} refused calls ({budget.limit} in {period.label})",
        created_at=at,
        details={
            "limit": str(budget.limit.amount),
            "spent": str(refusal.spent),
            "reserved": str(refusal.reserved),
            "requested": str(refusal.hold.amount),
            "period": period.label,
            "basis": refusal.hold.basis.value,  # "cost": hidden from the client's portal
            "currency": budget.limit.currency,
        },
    )


def wallet_refusal_alert(refusal: Refusal, at: datetime, owner: str) -> Alert:
    """A prepaid wallet refused calls (at most one alert per client and hour)."""
    budget = refusal.hold.budget
    balance = exact_sum(Decimal(0), refusal.spent.copy_negate())
    return Alert(
        id=new_id(),
        kind=AlertKind.WALLET_REFUSED,
        client_id=budget.client_id,
        key_id=None,
        dedupe_key=f"wallet_refused:{budget.client_id}:{at.astimezone(UTC):%Y-%m-%dT%H}",
        message=f"The prepaid wallet of {owner} cannot cover calls: they are refused "
        f"(balance {balance} {budget.limit.currency})",
        created_at=at,
        details={
            "balance": str(balance),
            "held": str(refusal.reserved),
            "requested": str(refusal.hold.amount),
            "currency": budget.limit.currency,
        },
    )


def uncounted_alert(
    budget: Budget, owner: str, price_currency: str, day: date, at: datetime
) -> Alert:
    """A soft budget in another currency than a call's price, with no rate in force that day:
    the call passed uncounted (docs/currencies.md). The agency's to fix (a rate), so its own
    alert (no client: never a portal's), once per budget, price currency and day."""
    kind = AlertKind.BUDGET_UNCOUNTED
    currency = budget.limit.currency
    return Alert(
        id=new_id(),
        kind=kind,
        client_id=None,
        key_id=None,
        dedupe_key=f"{kind.value}:{budget.scope}:{price_currency}:{day.isoformat()}",
        message=(
            f"The soft budget of {owner} is in {currency} and calls priced in {price_currency} "
            f"on {day.isoformat()} have no {price_currency}->{currency} rate: they pass, "
            "uncounted by the budget, until one is set (bizgraph rates set)"
        ),
        created_at=at,
        details={
            "client_id": budget.client_id,
            "key_id": budget.key_id or "",
            "budget_currency": currency,
            "price_currency": price_currency,
            "day": day.isoformat(),
        },
    )
