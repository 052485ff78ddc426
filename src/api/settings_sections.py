"""The settings of each area (providers, webhooks, email, spikes, invoices, reconciliation,
metrics), each with its reader from the environment (docs/configuration.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from api.settings_values import SettingsError, decimal_value, flag, positive_number, strong_secret
from domain.accounting.chart import parse_chart
from domain.errors import ValidationError


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    # OpenAI only: the upstream serves `/responses`, so `/v1/responses` is relayed natively
    # (OPENAI_RESPONSES_API; on by default for OpenAI itself, off for a compatible base URL).
    native_responses: bool = False
    # The organization's admin credential for the provider's usage and cost reports
    # (OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY; docs/reconciliation.md): never used for calls.
    admin_key: str | None = field(default=None, repr=False)
    admin_base_url: str | None = None  # OPENAI_ADMIN_BASE_URL / ANTHROPIC_ADMIN_BASE_URL


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Delivery of alerts to webhooks (docs/webhooks.md)."""

    timeout_seconds: float = 5.0
    max_attempts: int = 8
    retry_base_seconds: float = 10.0
    retry_cap_seconds: float = 3600.0
    poll_seconds: float = 2.0


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # upgrade a plain connection (port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # a local relay only


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """SMTP for alert emails (`mailto:` webhooks); off unless BIZGRAPH_SMTP_HOST is set."""

    host: str
    port: int = 587
    sender: str = "bizgraph@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: SmtpSecurity = SmtpSecurity.STARTTLS


@dataclass(frozen=True, slots=True)
class SpikeSettings:
    """The spend-spike rule (docs/alerts.md)."""

    factor: Decimal = Decimal(5)
    floor: Decimal = Decimal(10)
    baseline_days: int = 7
    interval_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class InvoiceSettings:
    """Invoicing (docs/invoices.md): when ended periods close by themselves, payment terms,
    and the agency details printed on every invoice."""

    auto_close: bool = True
    grace_hours: float = 24.0
    due_days: int = 30
    agency_name: str = "Bizgraph"
    agency_address: tuple[str, ...] = ()
    agency_logo_url: str | None = None
    # role=code pairs for the accounting exports (docs/tax.md "Exports"); "" keeps the defaults
    account_codes: str = ""


class InvoiceEmailMode(StrEnum):
    AUTO = "auto"  # finalized invoices are emailed by themselves (when SMTP is configured)
    OFF = "off"  # only on demand (send / resend)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Invoices by email and dunning (docs/delivery.md)."""

    invoice_email: InvoiceEmailMode = InvoiceEmailMode.AUTO
    reminder_days: tuple[int, ...] = (3, 10, 30)  # reminders, days after due
    suspend_after_days: int | None = None  # suspend the client's keys; None: never
    warn_days_before: int = 3  # the suspension warning, days before
    dunning_interval_seconds: float = 3600.0  # how often serve runs the dunning job


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    """Reconciliation against the providers' own reports (docs/reconciliation.md)."""

    drift_percent: Decimal = Decimal(1)  # a day and model drifting more than this alerts
    drift_minimum: Decimal = Decimal("0.01")  # ...and by more than this amount
    interval_seconds: float = 3600.0  # how often the daily job looks whether a day is due
    enabled: bool = True  # BIZGRAPH_RECONCILE=off: no daily job (the CLI still works)


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Prometheus metrics at `GET /metrics` (docs/operations.md "Metrics"): off unless
    BIZGRAPH_METRICS=true; a scrape presents BIZGRAPH_METRICS_TOKEN as a bearer token
    (required in production, optional in development)."""

    enabled: bool = False
    token: str | None = field(default=None, repr=False)


def read_metrics(env: Mapping[str, str], production: bool) -> MetricsSettings:
    enabled = flag(env, "BIZGRAPH_METRICS")
    token = env.get("BIZGRAPH_METRICS_TOKEN") or None
    if enabled and production:
        if token is None:
            raise SettingsError(
                "BIZGRAPH_METRICS=true needs BIZGRAPH_METRICS_TOKEN in production: the scraper "
                "sends it as 'Authorization: Bearer ...' (e.g. `openssl rand -base64 48`)"
            )
        strong_secret("BIZGRAPH_METRICS_TOKEN", token)
    return MetricsSettings(enabled=enabled, token=token)


def read_email(env: Mapping[str, str]) -> EmailSettings | None:
    host = env.get("BIZGRAPH_SMTP_HOST", "").strip()
    if not host:
        return None
    raw_security = env.get("BIZGRAPH_SMTP_SECURITY", "starttls").strip().lower()
    try:
        security = SmtpSecurity(raw_security)
    except ValueError as exc:
        raise SettingsError("BIZGRAPH_SMTP_SECURITY must be starttls, tls or none") from exc
    default_port = 465 if security is SmtpSecurity.TLS else 587
    return EmailSettings(
        host=host,
        port=int(positive_number(env, "BIZGRAPH_SMTP_PORT", default_port)),
        sender=env.get("BIZGRAPH_SMTP_FROM") or f"bizgraph@{host}",
        username=env.get("BIZGRAPH_SMTP_USERNAME") or None,
        password=env.get("BIZGRAPH_SMTP_PASSWORD") or None,
        security=security,
    )


def read_invoices(env: Mapping[str, str]) -> InvoiceSettings:
    address = env.get("BIZGRAPH_AGENCY_ADDRESS", "")
    return InvoiceSettings(
        auto_close=flag(env, "BIZGRAPH_INVOICE_AUTO_CLOSE", True),
        grace_hours=positive_number(env, "BIZGRAPH_INVOICE_GRACE_HOURS", 24, allow_zero=True),
        due_days=int(positive_number(env, "BIZGRAPH_INVOICE_DUE_DAYS", 30)),
        agency_name=env.get("BIZGRAPH_AGENCY_NAME") or "Bizgraph",
        agency_address=tuple(part.strip() for part in address.split("|") if part.strip()),
        agency_logo_url=env.get("BIZGRAPH_AGENCY_LOGO_URL") or None,
        account_codes=account_codes(env),
    )


def read_delivery(env: Mapping[str, str]) -> DeliverySettings:
    raw_mode = env.get("BIZGRAPH_INVOICE_EMAIL", "auto").strip().lower()
    try:
        mode = InvoiceEmailMode(raw_mode)
    except ValueError as exc:
        raise SettingsError("BIZGRAPH_INVOICE_EMAIL must be auto or off") from exc
    days = env.get("BIZGRAPH_DUNNING_REMINDER_DAYS", "3,10,30").strip().lower()
    try:
        reminder_days = (
            ()
            if days in ("", "off", "none")
            else tuple(sorted({int(part) for part in days.split(",") if part.strip()}))
        )
    except ValueError as exc:
        raise SettingsError(
            "BIZGRAPH_DUNNING_REMINDER_DAYS is a list of whole days after due, e.g. 3,10,30 "
            "(or off)"
        ) from exc
    if any(d < 0 or d > 3650 for d in reminder_days):
        raise SettingsError("BIZGRAPH_DUNNING_REMINDER_DAYS: days between 0 and 3650")
    suspend = env.get("BIZGRAPH_DUNNING_SUSPEND_AFTER_DAYS", "off").strip().lower()
    suspend_after = None
    if suspend not in ("", "off", "none"):
        suspend_after = int(positive_number(env, "BIZGRAPH_DUNNING_SUSPEND_AFTER_DAYS", 1))
        if suspend_after > 3650:
            raise SettingsError("BIZGRAPH_DUNNING_SUSPEND_AFTER_DAYS: at most 3650 days")
    return DeliverySettings(
        invoice_email=mode,
        reminder_days=reminder_days,
        suspend_after_days=suspend_after,
        warn_days_before=int(
            positive_number(env, "BIZGRAPH_DUNNING_WARN_DAYS", 3, allow_zero=True)
        ),
        dunning_interval_seconds=positive_number(env, "BIZGRAPH_DUNNING_INTERVAL", 3600),
    )


def account_codes(env: Mapping[str, str]) -> str:
    """BIZGRAPH_ACCOUNT_CODES, checked now so a typo fails at start, not at the export."""
    text = env.get("BIZGRAPH_ACCOUNT_CODES", "")
    try:
        parse_chart(text)
    except ValidationError as error:
        raise SettingsError(f"BIZGRAPH_ACCOUNT_CODES: {error}") from error
    return text


def read_provider(env: Mapping[str, str], prefix: str) -> ProviderSettings:
    return ProviderSettings(
        api_key=env.get(f"{prefix}_API_KEY") or None,
        base_url=(env.get(f"{prefix}_BASE_URL") or "").rstrip("/") or None,
        admin_key=env.get(f"{prefix}_ADMIN_KEY") or None,
        admin_base_url=(env.get(f"{prefix}_ADMIN_BASE_URL") or "").rstrip("/") or None,
    )


def read_openai(env: Mapping[str, str]) -> ProviderSettings:
    found = read_provider(env, "OPENAI")
    native = flag(env, "OPENAI_RESPONSES_API", default=found.base_url is None)
    return replace(found, native_responses=native)


def read_reconcile(env: Mapping[str, str]) -> ReconcileSettings:
    return ReconcileSettings(
        drift_percent=decimal_value(
            env, "BIZGRAPH_RECONCILE_DRIFT_PERCENT", Decimal(1), allow_zero=True
        ),
        drift_minimum=decimal_value(
            env, "BIZGRAPH_RECONCILE_DRIFT_MINIMUM", Decimal("0.01"), allow_zero=True
        ),
        interval_seconds=positive_number(env, "BIZGRAPH_RECONCILE_INTERVAL", 3600),
        enabled=flag(env, "BIZGRAPH_RECONCILE", default=True),
    )
