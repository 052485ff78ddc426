"""Settings from environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.throttle import ThrottlePolicy
from domain.providers import Timeouts

log = logging.getLogger("bizgraph.settings")
# The built web apps (`make web`): <repo>/web/dist next to src/ in a checkout.
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"  # one JSON object per line (docs/operations.md, "Logs")


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message says which and why."""


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


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    secret_key: str = field(repr=False)
    admin_token: str | None = field(default=None, repr=False)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    env: Environment = Environment.PRODUCTION
    data_dir: Path = Path("data")
    openai: ProviderSettings = ProviderSettings()
    anthropic: ProviderSettings = ProviderSettings()
    gemini: ProviderSettings = ProviderSettings()
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_body_bytes: int = 10 * 1024 * 1024
    drain_after_disconnect_seconds: float = 120.0
    # Crash recovery (docs/metering.md): a process's lease lasts lease_seconds, renewed every
    # heartbeat_seconds; a dead process's calls settle within lease + heartbeat (20 s).
    lease_seconds: float = 15.0
    heartbeat_seconds: float = 5.0
    stream_checkpoint_seconds: float = 2.0  # a stream notes the output it relayed this often
    # How often a serve process checks the configuration revision (runtime/lookups.py);
    # 0: every call reads it. A check is trusted for 1 s, so at most MAX_CONFIG_CHECK_SECONDS.
    config_check_seconds: float = 0.25
    budget_lease_idle_seconds: float = 2.0  # an unused budget lease gives back after this
    redis_url: str | None = field(default=None, repr=False)  # shared rate limits
    allow_private_urls: bool = False
    webhooks: WebhookSettings = WebhookSettings()
    spikes: SpikeSettings = SpikeSettings()
    email: EmailSettings | None = None
    web_dir: Path = field(default_factory=lambda: DEFAULT_WEB_DIR)
    invoices: InvoiceSettings = InvoiceSettings()
    # Failed authentications per address and token prefix (api/throttle.py).
    auth_throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    log_format: LogFormat = LogFormat.TEXT
    metrics: MetricsSettings = MetricsSettings()
    reconcile: ReconcileSettings = ReconcileSettings()

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT


# In production a configured secret must be at least this long and use at least this many
# distinct characters (so neither "x" nor "ab" repeated passes); development accepts any.
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 8
# Half the second a check is trusted for: a late check falls back to per-call reads, not less.
MAX_CONFIG_CHECK_SECONDS = 0.5


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("BIZGRAPH_DATA_DIR", "data"))
    lease = _positive(env, "BIZGRAPH_LEASE_SECONDS", 15)
    heartbeat = _positive(env, "BIZGRAPH_HEARTBEAT_SECONDS", 5)
    if heartbeat * 2 > lease:  # one late renewal must not make a live process look dead
        raise SettingsError(
            "BIZGRAPH_LEASE_SECONDS must be at least twice BIZGRAPH_HEARTBEAT_SECONDS"
        )
    environment = _environment(env.get("BIZGRAPH_ENV", "production"))
    production = environment is Environment.PRODUCTION
    secret_key = env.get("BIZGRAPH_SECRET_KEY") or _kept_secret(data_dir)
    admin_token = env.get("BIZGRAPH_ADMIN_TOKEN") or None
    if production:
        strong_secret("BIZGRAPH_SECRET_KEY", secret_key)
        strong_secret("BIZGRAPH_ADMIN_TOKEN", admin_token)
    return Settings(
        database_url=env.get("BIZGRAPH_DATABASE_URL") or f"sqlite:///{data_dir / 'bizgraph.db'}",
        secret_key=secret_key,
        admin_token=admin_token,
        timezone=_zone(env.get("BIZGRAPH_TIMEZONE", "UTC")),
        env=environment,
        data_dir=data_dir,
        openai=_openai(env),
        anthropic=_provider(env, "ANTHROPIC"),
        gemini=_provider(env, "GEMINI"),
        timeouts=Timeouts(
            connect=_positive(env, "BIZGRAPH_TIMEOUT_CONNECT", 10),
            first_byte=_positive(env, "BIZGRAPH_TIMEOUT_FIRST_BYTE", 60),
            idle=_positive(env, "BIZGRAPH_TIMEOUT_IDLE", 60),
            total=_positive(env, "BIZGRAPH_TIMEOUT_TOTAL", 600),
        ),
        max_body_bytes=int(_positive(env, "BIZGRAPH_MAX_BODY_BYTES", 10 * 1024 * 1024)),
        drain_after_disconnect_seconds=_positive(env, "BIZGRAPH_DRAIN_AFTER_DISCONNECT", 120),
        lease_seconds=lease,
        heartbeat_seconds=heartbeat,
        stream_checkpoint_seconds=_positive(env, "BIZGRAPH_STREAM_CHECKPOINT", 2),
        config_check_seconds=_config_check(env),
        budget_lease_idle_seconds=_positive(env, "BIZGRAPH_BUDGET_LEASE_IDLE", 2),
        redis_url=env.get("BIZGRAPH_REDIS_URL") or None,
        allow_private_urls=_flag(env, "BIZGRAPH_ALLOW_PRIVATE_URLS"),
        webhooks=WebhookSettings(
            timeout_seconds=_positive(env, "BIZGRAPH_WEBHOOK_TIMEOUT", 5),
            max_attempts=int(_positive(env, "BIZGRAPH_WEBHOOK_MAX_ATTEMPTS", 8)),
            retry_base_seconds=_positive(env, "BIZGRAPH_WEBHOOK_RETRY_BASE", 10),
            retry_cap_seconds=_positive(env, "BIZGRAPH_WEBHOOK_RETRY_CAP", 3600),
            poll_seconds=_positive(env, "BIZGRAPH_WEBHOOK_POLL_INTERVAL", 2),
        ),
        spikes=SpikeSettings(
            factor=_decimal(env, "BIZGRAPH_SPIKE_FACTOR", Decimal(5)),
            floor=_decimal(env, "BIZGRAPH_SPIKE_FLOOR", Decimal(10), allow_zero=True),
            baseline_days=int(_positive(env, "BIZGRAPH_SPIKE_BASELINE_DAYS", 7)),
            interval_seconds=_positive(env, "BIZGRAPH_SPIKE_INTERVAL", 300),
        ),
        email=_email(env),
        web_dir=Path(env.get("BIZGRAPH_WEB_DIR") or DEFAULT_WEB_DIR),
        invoices=_invoices(env),
        auth_throttle=ThrottlePolicy(
            burst=int(_positive(env, "BIZGRAPH_AUTH_FAILURE_BURST", 10)),
            per_minute=_positive(env, "BIZGRAPH_AUTH_FAILURES_PER_MINUTE", 10),
        ),
        log_format=log_format(env),
        metrics=_metrics(env, production),
        reconcile=_reconcile(env),
    )


def _metrics(env: Mapping[str, str], production: bool) -> MetricsSettings:
    enabled = _flag(env, "BIZGRAPH_METRICS")
    token = env.get("BIZGRAPH_METRICS_TOKEN") or None
    if enabled and production:
        if token is None:
            raise SettingsError(
                "BIZGRAPH_METRICS=true needs BIZGRAPH_METRICS_TOKEN in production: the scraper "
                "sends it as 'Authorization: Bearer ...' (e.g. `openssl rand -base64 48`)"
            )
        strong_secret("BIZGRAPH_METRICS_TOKEN", token)
    return MetricsSettings(enabled=enabled, token=token)


def log_format(environ: Mapping[str, str] | None = None) -> LogFormat:
    """BIZGRAPH_LOG_FORMAT alone: the CLI sets up logging with it before the other settings."""
    env = os.environ if environ is None else environ
    raw = env.get("BIZGRAPH_LOG_FORMAT", "").strip().lower() or LogFormat.TEXT.value
    try:
        return LogFormat(raw)
    except ValueError:
        raise SettingsError(f"BIZGRAPH_LOG_FORMAT must be text or json, not {raw!r}") from None


def strong_secret(name: str, value: str | None) -> None:
    """Refuse a guessable configured secret (production): the message names the variable and
    the rule, never the value."""
    if value is None:
        return
    if len(value) < MIN_SECRET_LENGTH or len(set(value)) < MIN_SECRET_DISTINCT:
        raise SettingsError(
            f"{name} is too weak for production: use at least {MIN_SECRET_LENGTH} characters "
            f"with at least {MIN_SECRET_DISTINCT} different ones (e.g. `openssl rand -base64 "
            "48`); BIZGRAPH_ENV=development accepts any value"
        )


def _email(env: Mapping[str, str]) -> EmailSettings | None:
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
        port=int(_positive(env, "BIZGRAPH_SMTP_PORT", default_port)),
        sender=env.get("BIZGRAPH_SMTP_FROM") or f"bizgraph@{host}",
        username=env.get("BIZGRAPH_SMTP_USERNAME") or None,
        password=env.get("BIZGRAPH_SMTP_PASSWORD") or None,
        security=security,
    )


def _config_check(env: Mapping[str, str]) -> float:
    seconds = _positive(env, "BIZGRAPH_CONFIG_CHECK_SECONDS", 0.25, allow_zero=True)
    if seconds > MAX_CONFIG_CHECK_SECONDS:
        raise SettingsError(
            f"BIZGRAPH_CONFIG_CHECK_SECONDS must be at most {MAX_CONFIG_CHECK_SECONDS} (a check "
            "is trusted for 1 s; 0 makes every call read the configuration revision)"
        )
    return seconds


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _decimal(
    env: Mapping[str, str], name: str, default: Decimal, *, allow_zero: bool = False
) -> Decimal:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise SettingsError(f"{name} must be a decimal number, not {raw!r}") from exc
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise SettingsError(f"{name} must be {'zero or ' if allow_zero else ''}positive")
    return value


def _invoices(env: Mapping[str, str]) -> InvoiceSettings:
    address = env.get("BIZGRAPH_AGENCY_ADDRESS", "")
    return InvoiceSettings(
        auto_close=_flag(env, "BIZGRAPH_INVOICE_AUTO_CLOSE", True),
        grace_hours=_positive(env, "BIZGRAPH_INVOICE_GRACE_HOURS", 24, allow_zero=True),
        due_days=int(_positive(env, "BIZGRAPH_INVOICE_DUE_DAYS", 30)),
        agency_name=env.get("BIZGRAPH_AGENCY_NAME") or "Bizgraph",
        agency_address=tuple(part.strip() for part in address.split("|") if part.strip()),
        agency_logo_url=env.get("BIZGRAPH_AGENCY_LOGO_URL") or None,
    )


def _provider(env: Mapping[str, str], prefix: str) -> ProviderSettings:
    return ProviderSettings(
        api_key=env.get(f"{prefix}_API_KEY") or None,
        base_url=(env.get(f"{prefix}_BASE_URL") or "").rstrip("/") or None,
        admin_key=env.get(f"{prefix}_ADMIN_KEY") or None,
        admin_base_url=(env.get(f"{prefix}_ADMIN_BASE_URL") or "").rstrip("/") or None,
    )


def _openai(env: Mapping[str, str]) -> ProviderSettings:
    found = _provider(env, "OPENAI")
    native = _flag(env, "OPENAI_RESPONSES_API", default=found.base_url is None)
    return replace(found, native_responses=native)


def _reconcile(env: Mapping[str, str]) -> ReconcileSettings:
    return ReconcileSettings(
        drift_percent=_decimal(
            env, "BIZGRAPH_RECONCILE_DRIFT_PERCENT", Decimal(1), allow_zero=True
        ),
        drift_minimum=_decimal(
            env, "BIZGRAPH_RECONCILE_DRIFT_MINIMUM", Decimal("0.01"), allow_zero=True
        ),
        interval_seconds=_positive(env, "BIZGRAPH_RECONCILE_INTERVAL", 3600),
        enabled=_flag(env, "BIZGRAPH_RECONCILE", default=True),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"BIZGRAPH_TIMEZONE: unknown time zone {name!r}") from exc


def _environment(value: str) -> Environment:
    try:
        return Environment(value.lower())
    except ValueError as exc:
        raise SettingsError("BIZGRAPH_ENV must be 'development' or 'production'") from exc


def _positive(
    env: Mapping[str, str], name: str, default: float, *, allow_zero: bool = False
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc
    if not value >= 0 or (value == 0 and not allow_zero) or value == float("inf"):
        raise SettingsError(f"{name} must be {'zero or more' if allow_zero else 'positive'}")
    return value


def _kept_secret(data_dir: Path) -> str:
    """A generated server secret kept under the data dir, so digests survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    log.warning(
        "BIZGRAPH_SECRET_KEY is not set: generated one in %s. Set it explicitly in production; "
        "losing it invalidates every API key.",
        path,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
