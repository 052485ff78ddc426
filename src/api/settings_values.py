"""Typed values read from environment variables, each refused with a SettingsError that names the
variable and the rule: flags, decimals, positive numbers and the strength of a secret."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message says which and why."""


# In production a configured secret must be at least this long and use at least this many
# distinct characters (so neither "x" nor "ab" repeated passes); development accepts any.
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 8


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


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def decimal_value(
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


def positive_number(
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
