"""Invoice delivery and dunning from settings: the SMTP invoice mailer (None without SMTP),
the outbox terms (retries as for webhooks) and the dunning policy."""

from __future__ import annotations

from datetime import timedelta

from adapters.notifications.email import SmtpSettings
from adapters.notifications.invoice_mail import SmtpInvoiceMailer
from api.settings import Settings
from api.settings_sections import InvoiceEmailMode, SmtpSecurity
from domain.alerting.webhooks import RetryPolicy
from domain.delivery.dunning import DunningPolicy
from domain.usecases.invoice_mail import MailTerms

# One SMTP attempt takes at most the timeout per step (connect, TLS, login, data): a lease
# well above that keeps a slow send from being claimed twice.
MAIL_LEASE = timedelta(minutes=5)


def build_invoice_mailer(settings: Settings) -> SmtpInvoiceMailer | None:
    email = settings.email
    if email is None:
        return None
    smtp = SmtpSettings(
        host=email.host,
        port=email.port,
        sender=email.sender,
        username=email.username,
        password=email.password,
        starttls=email.security is SmtpSecurity.STARTTLS,
        tls=email.security is SmtpSecurity.TLS,
    )
    return SmtpInvoiceMailer(smtp, timeout_seconds=max(settings.webhooks.timeout_seconds, 10.0))


def dunning_policy(settings: Settings) -> DunningPolicy:
    given = settings.delivery
    return DunningPolicy(given.reminder_days, given.suspend_after_days, given.warn_days_before)


def mail_terms(settings: Settings) -> MailTerms:
    hooks = settings.webhooks
    return MailTerms(
        policy=RetryPolicy(hooks.max_attempts, hooks.retry_base_seconds, hooks.retry_cap_seconds),
        lease=MAIL_LEASE,
        auto_send=settings.delivery.invoice_email is InvoiceEmailMode.AUTO,
        dunning=dunning_policy(settings),
    )
