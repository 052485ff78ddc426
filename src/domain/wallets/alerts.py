"""The alerts wallets raise (besides a refused call, alerting/budget_alerts.py): the balance
under its alert level (once a day), a period's fixed amounts it could not cover (once per
period), an auto top-up that failed (once per attempt, at most one an hour)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.alerting.alerts import Alert, AlertKind
from domain.billing.money import Money
from domain.ids import new_id


def low_balance_alert(
    client_id: str, owner: str, balance: Money, level: Decimal, at: datetime
) -> Alert:
    return Alert(
        id=new_id(),
        kind=AlertKind.WALLET_LOW_BALANCE,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"wallet_low_balance:{client_id}:{at.astimezone(UTC):%Y-%m-%d}",
        message=f"The prepaid wallet of {owner} is low: {balance} (alert under {level})",
        created_at=at,
        details={"balance": str(balance.amount), "level": str(level), "currency": balance.currency},
    )


def shortfall_alert(
    client_id: str, owner: str, period: str, due: Money, balance: Money, outcome: str, at: datetime
) -> Alert:
    """`outcome`: "suspended" or "overdrawn"."""
    return Alert(
        id=new_id(),
        kind=AlertKind.WALLET_SHORTFALL,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"wallet_shortfall:{client_id}:{period}",
        message=f"The prepaid wallet of {owner} could not cover the fixed amount of {period} "
        f"({due}, balance {balance}): {outcome}",
        created_at=at,
        details={
            "period": period,
            "due": str(due.amount),
            "balance": str(balance.amount),
            "outcome": outcome,
            "currency": due.currency,
        },
    )


def refund_shortfall_alert(
    client_id: str, owner: str, reference: str, refunded: Money, uncovered: Money, at: datetime
) -> Alert:
    """A top-up refunded by the processor after the client spent part of it: the wallet was
    debited what it had, `uncovered` is left for an operator (invoice it, or let it go)."""
    return Alert(
        id=new_id(),
        kind=AlertKind.WALLET_SHORTFALL,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"wallet_shortfall:{client_id}:{reference}"[:300],
        message=f"{refunded} of a top-up was refunded to {owner}, but the prepaid wallet "
        f"could cover only part of it: {uncovered} was not recovered ({reference})",
        created_at=at,
        details={
            "refunded": str(refunded.amount),
            "uncovered": str(uncovered.amount),
            "reference": reference,
            "outcome": "refund_uncovered",
            "currency": refunded.currency,
        },
    )


def auto_top_up_failed(
    client_id: str, owner: str, amount: Money, reason: str, at: datetime
) -> Alert:
    return Alert(
        id=new_id(),
        kind=AlertKind.AUTO_TOP_UP_FAILED,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"auto_top_up_failed:{client_id}:{at.astimezone(UTC):%Y-%m-%dT%H}",
        message=f"The auto top-up of {amount} for {owner} failed: {reason}",
        created_at=at,
        details={"amount": str(amount.amount), "currency": amount.currency, "reason": reason},
    )
