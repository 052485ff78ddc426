"""The invoice email outbox: one row per message to send (the invoice itself, a reminder, a
suspension warning), claimed under a lease, retried with backoff, its outcome kept on the row.

`dedupe_key` makes a message once-only across processes and restarts ("invoice:<id>" for the
email sent on finalizing, "reminder:<id>:<day>" per reminder day); a resend has a key of its
own and so is always a new message."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.alerting.webhooks import RetryPolicy, SendResult
from domain.errors import Conflict


class EmailNotConfigured(Conflict):
    """Sending was asked for while no SMTP server is configured (BIZGRAPH_SMTP_HOST)."""

    code = "email_not_configured"


class MailKind(StrEnum):
    INVOICE = "invoice"  # the invoice, on finalizing or on demand
    REMINDER = "reminder"  # dunning: N days past due
    SUSPENSION_WARNING = "suspension_warning"  # dunning: the keys stop in a few days


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or being attempted)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # every attempt failed; no more retries
    NO_BILLING_EMAIL = "no_billing_email"  # the client has no billing email: nothing sent
    CANCELLED = "cancelled"  # a reminder whose invoice was paid or voided before it went out


@dataclass(frozen=True, slots=True)
class InvoiceMail:
    id: str
    invoice_id: str
    client_id: str
    kind: MailKind
    dedupe_key: str
    recipient: str | None  # None: the client has no billing email
    created_at: datetime
    next_attempt_at: datetime
    status: MailStatus = MailStatus.PENDING
    attempts: int = 0
    last_error: str | None = None  # never a secret: the adapter's short description
    sent_at: datetime | None = None
    days_overdue: int | None = None  # reminders and warnings: how late, when queued
    requested_by: str | None = None  # who asked (send/resend); None: the system


def after_attempt(
    mail: InvoiceMail, result: SendResult, now: datetime, policy: RetryPolicy, spread: float
) -> InvoiceMail:
    """The message once an attempt (already counted in `attempts`) got `result`."""
    if result.delivered:
        return replace(mail, status=MailStatus.SENT, sent_at=now, last_error=None)
    failed = replace(mail, last_error=result.error or f"SMTP status {result.status_code}")
    if mail.attempts >= policy.max_attempts:
        return replace(failed, status=MailStatus.FAILED)
    return replace(failed, next_attempt_at=now + policy.delay(mail.attempts, spread))
