"""Settings from environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.providers import Timeouts

log = logging.getLogger("bizgraph.settings")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None


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
    redis_url: str | None = field(default=None, repr=False)  # shared rate limits

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("BIZGRAPH_DATA_DIR", "data"))
    return Settings(
        database_url=env.get("BIZGRAPH_DATABASE_URL") or f"sqlite:///{data_dir / 'bizgraph.db'}",
        secret_key=env.get("BIZGRAPH_SECRET_KEY") or _kept_secret(data_dir),
        admin_token=env.get("BIZGRAPH_ADMIN_TOKEN") or None,
        timezone=_zone(env.get("BIZGRAPH_TIMEZONE", "UTC")),
        env=_environment(env.get("BIZGRAPH_ENV", "production")),
        data_dir=data_dir,
        openai=_provider(env, "OPENAI"),
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
        redis_url=env.get("BIZGRAPH_REDIS_URL") or None,
    )


def _provider(env: Mapping[str, str], prefix: str) -> ProviderSettings:
    return ProviderSettings(
        api_key=env.get(f"{prefix}_API_KEY") or None,
        base_url=(env.get(f"{prefix}_BASE_URL") or "").rstrip("/") or None,
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


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
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
