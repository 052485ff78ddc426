"""Dunning, simply: an invoice finalized and unpaid past its due date is overdue; it is
alerted once, reminded at configured days after due (each day once), and, when the agency
asks for it, its client is suspended N days after due, warned a few days before.

A job that did not run for a while does not send a burst: only the latest reminder day
reached is due (earlier ones missed are skipped), and each is kept once by its dedupe key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import ValidationError
from domain.invoicing.invoices import Invoice, InvoiceStatus

MAX_DAY = 3650


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    reminder_days: tuple[int, ...] = (3, 10, 30)
    suspend_after_days: int | None = None  # None: never suspend (the default)
    warn_days_before: int = 3  # the suspension warning, this many days before

    def __post_init__(self) -> None:
        days = self.reminder_days
        if any(d < 0 or d > MAX_DAY for d in days) or list(days) != sorted(set(days)):
            raise ValidationError("reminder days are distinct whole days after due, ascending")
        if self.suspend_after_days is not None and not 0 < self.suspend_after_days <= MAX_DAY:
            raise ValidationError("suspension is a whole number of days after due (1 or more)")
        if self.warn_days_before < 0:
            raise ValidationError("the suspension warning comes 0 or more days before")


def parse_days(text: str) -> tuple[int, ...]:
    """'3,10,30' -> (3, 10, 30); '' or 'off' -> no reminders."""
    if text.strip().lower() in ("", "off", "none"):
        return ()
    try:
        days = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise ValidationError(f"reminder days are whole numbers, e.g. 3,10,30: {text!r}") from exc
    return tuple(days)


def is_overdue(invoice: Invoice, now: datetime) -> bool:
    return invoice.status is InvoiceStatus.FINALIZED and invoice.due_at < now


def days_overdue(invoice: Invoice, now: datetime) -> int:
    """Whole days since the due date (0 on the day it passed)."""
    return max(0, (now - invoice.due_at) // timedelta(days=1))


def reminder_due(policy: DunningPolicy, late: int) -> int | None:
    """The reminder day whose turn it is `late` days after due: the latest one reached."""
    reached = [d for d in policy.reminder_days if d <= late]
    return reached[-1] if reached else None


def warning_due(policy: DunningPolicy, late: int) -> bool:
    limit = policy.suspend_after_days
    return limit is not None and limit - policy.warn_days_before <= late < limit


def suspension_due(policy: DunningPolicy, late: int) -> bool:
    return policy.suspend_after_days is not None and late >= policy.suspend_after_days


def suspension_date(invoice: Invoice, policy: DunningPolicy) -> str | None:
    if policy.suspend_after_days is None:
        return None
    return (invoice.due_at + timedelta(days=policy.suspend_after_days)).date().isoformat()
