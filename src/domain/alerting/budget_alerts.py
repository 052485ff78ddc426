"""The alerts budgets raise: a threshold crossed by settled spend, a call a hard limit refused.

Dedupe keys make them "once": once per threshold per period, and once per budget and hour for
refusals (a storm of refused calls stores one alert an hour)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.alerting.alerts import Alert, AlertKind
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
