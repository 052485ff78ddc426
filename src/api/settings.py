"""Settings from environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.payment_settings import StripeSettings, read_stripe
from api.settings_sections import (
    DeliverySettings,
    EmailSettings,
    InvoiceSettings,
    MetricsSettings,
    ProviderSettings,
    ReconcileSettings,
    SpikeSettings,
    WebhookSettings,
    read_delivery,
    read_email,
    read_invoices,
    read_metrics,
    read_openai,
    read_provider,
    read_reconcile,
)
from api.settings_values import SettingsError, decimal_value, flag, positive_number, strong_secret
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
    # How often prepaid wallets are tended: fixed amounts, low balance, auto top-up
    wallet_check_seconds: float = 60.0
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
    delivery: DeliverySettings = DeliverySettings()  # invoices by email, dunning
    stripe: StripeSettings | None = None  # payments through Stripe (docs/payments.md)
    reporting_currency: str = "USD"  # the overview's and profit's (docs/currencies.md)

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT


# Half the second a check is trusted for: a late check falls back to per-call reads, not less.
MAX_CONFIG_CHECK_SECONDS = 0.5


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("BIZGRAPH_DATA_DIR", "data"))
    lease = positive_number(env, "BIZGRAPH_LEASE_SECONDS", 15)
    heartbeat = positive_number(env, "BIZGRAPH_HEARTBEAT_SECONDS", 5)
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
        openai=read_openai(env),
        anthropic=read_provider(env, "ANTHROPIC"),
        gemini=read_provider(env, "GEMINI"),
        timeouts=Timeouts(
            connect=positive_number(env, "BIZGRAPH_TIMEOUT_CONNECT", 10),
            first_byte=positive_number(env, "BIZGRAPH_TIMEOUT_FIRST_BYTE", 60),
            idle=positive_number(env, "BIZGRAPH_TIMEOUT_IDLE", 60),
            total=positive_number(env, "BIZGRAPH_TIMEOUT_TOTAL", 600),
        ),
        max_body_bytes=int(positive_number(env, "BIZGRAPH_MAX_BODY_BYTES", 10 * 1024 * 1024)),
        drain_after_disconnect_seconds=positive_number(env, "BIZGRAPH_DRAIN_AFTER_DISCONNECT", 120),
        lease_seconds=lease,
        heartbeat_seconds=heartbeat,
        stream_checkpoint_seconds=positive_number(env, "BIZGRAPH_STREAM_CHECKPOINT", 2),
        config_check_seconds=_config_check(env),
        budget_lease_idle_seconds=positive_number(env, "BIZGRAPH_BUDGET_LEASE_IDLE", 2),
        wallet_check_seconds=positive_number(env, "BIZGRAPH_WALLET_CHECK_INTERVAL", 60),
        redis_url=env.get("BIZGRAPH_REDIS_URL") or None,
        allow_private_urls=flag(env, "BIZGRAPH_ALLOW_PRIVATE_URLS"),
        webhooks=WebhookSettings(
            timeout_seconds=positive_number(env, "BIZGRAPH_WEBHOOK_TIMEOUT", 5),
            max_attempts=int(positive_number(env, "BIZGRAPH_WEBHOOK_MAX_ATTEMPTS", 8)),
            retry_base_seconds=positive_number(env, "BIZGRAPH_WEBHOOK_RETRY_BASE", 10),
            retry_cap_seconds=positive_number(env, "BIZGRAPH_WEBHOOK_RETRY_CAP", 3600),
            poll_seconds=positive_number(env, "BIZGRAPH_WEBHOOK_POLL_INTERVAL", 2),
        ),
        spikes=SpikeSettings(
            factor=decimal_value(env, "BIZGRAPH_SPIKE_FACTOR", Decimal(5)),
            floor=decimal_value(env, "BIZGRAPH_SPIKE_FLOOR", Decimal(10), allow_zero=True),
            baseline_days=int(positive_number(env, "BIZGRAPH_SPIKE_BASELINE_DAYS", 7)),
            interval_seconds=positive_number(env, "BIZGRAPH_SPIKE_INTERVAL", 300),
        ),
        email=read_email(env),
        web_dir=Path(env.get("BIZGRAPH_WEB_DIR") or DEFAULT_WEB_DIR),
        invoices=read_invoices(env),
        auth_throttle=ThrottlePolicy(
            burst=int(positive_number(env, "BIZGRAPH_AUTH_FAILURE_BURST", 10)),
            per_minute=positive_number(env, "BIZGRAPH_AUTH_FAILURES_PER_MINUTE", 10),
        ),
        log_format=log_format(env),
        metrics=read_metrics(env, production),
        reconcile=read_reconcile(env),
        delivery=read_delivery(env),
        stripe=read_stripe(env),
        reporting_currency=reporting_currency(env),
    )


def reporting_currency(env: Mapping[str, str]) -> str:
    raw = env.get("BIZGRAPH_REPORTING_CURRENCY", "USD").strip().upper() or "USD"
    if len(raw) != 3 or not raw.isascii() or not raw.isalpha():
        raise SettingsError(
            f"BIZGRAPH_REPORTING_CURRENCY must be a three-letter ISO 4217 code, not {raw[:20]!r}"
        )
    return raw


def log_format(environ: Mapping[str, str] | None = None) -> LogFormat:
    """BIZGRAPH_LOG_FORMAT alone: the CLI sets up logging with it before the other settings."""
    env = os.environ if environ is None else environ
    raw = env.get("BIZGRAPH_LOG_FORMAT", "").strip().lower() or LogFormat.TEXT.value
    try:
        return LogFormat(raw)
    except ValueError:
        raise SettingsError(f"BIZGRAPH_LOG_FORMAT must be text or json, not {raw!r}") from None


def _config_check(env: Mapping[str, str]) -> float:
    seconds = positive_number(env, "BIZGRAPH_CONFIG_CHECK_SECONDS", 0.25, allow_zero=True)
    if seconds > MAX_CONFIG_CHECK_SECONDS:
        raise SettingsError(
            f"BIZGRAPH_CONFIG_CHECK_SECONDS must be at most {MAX_CONFIG_CHECK_SECONDS} (a check "
            "is trusted for 1 s; 0 makes every call read the configuration revision)"
        )
    return seconds


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
