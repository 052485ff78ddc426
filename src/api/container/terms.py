"""Settings turned into the parameters the use cases take: rate limits, call and lease
durations, the alert sender, invoice terms and the agency details."""

from __future__ import annotations

from datetime import timedelta

from adapters.notifications.email import ChannelSender, SmtpEmailSender, SmtpSettings
from adapters.notifications.webhooks import HttpxWebhookSender
from adapters.ratelimits.memory import InMemoryRateLimiter
from adapters.ratelimits.redis import RedisRateLimiter
from api.settings import Settings
from api.settings_sections import SmtpSecurity
from domain.accounting.chart import ChartOfAccounts, parse_chart
from domain.invoicing.ports import AgencyDetails
from domain.metering.leases import LeaseTerms
from domain.usecases.invoicing import InvoiceTerms
from domain.usecases.ratelimits import RateLimits

# Any ISO 4217 currency for prices and clients: usage in another currency than the client's is
# converted at dated exchange rates when it is invoiced (docs/currencies.md). None: no limit.
BILLING_CURRENCIES: frozenset[str] | None = None


def build_rate_limits(settings: Settings) -> RateLimits:
    """Shared buckets in Redis when configured (per-process buckets while it is down), else
    this process's own."""
    if settings.redis_url:
        return RateLimits(RedisRateLimiter(settings.redis_url), fallback=InMemoryRateLimiter())
    return RateLimits(InMemoryRateLimiter())


def longest_call(settings: Settings) -> timedelta:
    """No call can run longer than this (its total deadline plus the post-disconnect drain):
    a journal row or idempotency claim older than that belongs to a crashed process."""
    return timedelta(seconds=settings.timeouts.total + settings.drain_after_disconnect_seconds)


def lease_terms(settings: Settings) -> LeaseTerms:
    return LeaseTerms(
        lease=timedelta(seconds=settings.lease_seconds),
        heartbeat=timedelta(seconds=settings.heartbeat_seconds),
    )


def build_sender(settings: Settings) -> ChannelSender:
    """HTTP webhooks always; email for `mailto:` webhooks when SMTP is configured."""
    timeout = settings.webhooks.timeout_seconds
    http = HttpxWebhookSender(timeout_seconds=timeout, allow_private=settings.allow_private_urls)
    email = settings.email
    if email is None:
        return ChannelSender(http, None)
    smtp = SmtpSettings(
        host=email.host,
        port=email.port,
        sender=email.sender,
        username=email.username,
        password=email.password,
        starttls=email.security is SmtpSecurity.STARTTLS,
        tls=email.security is SmtpSecurity.TLS,
    )
    return ChannelSender(http, SmtpEmailSender(smtp, timeout_seconds=timeout))


def invoice_terms(settings: Settings) -> InvoiceTerms:
    given = settings.invoices
    return InvoiceTerms(due_days=given.due_days, grace=timedelta(hours=given.grace_hours))


def account_chart(settings: Settings) -> ChartOfAccounts:
    return parse_chart(settings.invoices.account_codes)


def agency_details(settings: Settings) -> AgencyDetails:
    given = settings.invoices
    return AgencyDetails(given.agency_name, given.agency_address, given.agency_logo_url)
