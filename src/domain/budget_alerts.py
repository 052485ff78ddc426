"""The alerts budgets raise: a threshold crossed by settled spend, a call a hard limit refused.

Dedupe keys make them "once": once per threshold per period, and once per budget and hour for
refusals (a storm of refused calls stores one alert an hour)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.alerts import Alert, AlertKind
from domain.budgets import Budget, BudgetBasis, Refusal
from domain.ids import new_id
from domain.periods import Period


def _who(budget: Budget) -> str:
    return f"key {budget.key_id}" if budget.key_id else f"client {budget.client_id}"


def threshold_alert(
    budget: Budget,
    period: Period,
    basis: BudgetBasis,
    percent: int,
    spent: Decimal,
    at: datetime,
) -> Alert:
    key = budget.key_id or "-"
    limit = budget.limit
    return Alert(
        id=new_id(),
        kind=AlertKind.BUDGET_THRESHOLD,
        client_id=budget.client_id,
        key_id=budget.key_id,
        dedupe_key=f"budget_threshold:{budget.client_id}:{key}:{period.start:%Y-%m}:{percent}",
        message=f"the budget of {_who(budget)} reached {percent}% of {limit} in {period.label}",
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


def refusal_alert(refusal: Refusal, at: datetime) -> Alert:
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
        message=f"the hard budget of {_who(budget)} refused calls ({budget.limit} in "
        f"{period.label})",
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
