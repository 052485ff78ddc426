"""Client API keys: shown once, stored as a keyed digest, shown afterwards only by prefix."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.errors import ValidationError
from domain.text import check_text
from domain.timeutil import require_aware

KEY_PREFIX = "bzk_live_"
# 32 random bytes: 256 bits, far beyond guessing; the digest needs no slow hash.
SECRET_BYTES = 32
DISPLAY_CHARS = 6


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def display_prefix(secret: str) -> str:
    return secret[: len(KEY_PREFIX) + DISPLAY_CHARS]


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and 20 <= len(value) <= 200 and value.isascii()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    client_id: str
    name: str
    prefix: str
    digest: str = field(repr=False)
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    allowed_models: tuple[str, ...] = ()  # empty: every model in the catalog
    rpm_limit: int | None = None
    tpm_limit: int | None = None

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        if self.expires_at is not None:
            require_aware(self.expires_at, "expires_at")
        check_text(self.name, "a key name", max_length=200)
        for limit in (self.rpm_limit, self.tpm_limit):
            if limit is not None and limit <= 0:
                raise ValidationError("rate limits must be positive")

    def is_usable_at(self, now: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or now < self.expires_at

    def allows(self, model_id: str) -> bool:
        return not self.allowed_models or model_id in self.allowed_models

    def revoked(self, at: datetime) -> ApiKey:
        return self if self.revoked_at is not None else replace(self, revoked_at=at)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """The one moment the secret exists outside the client's hands."""

    secret: str = field(repr=False)
    key: ApiKey
