"""Client API keys: shown once, stored as a keyed digest, shown afterwards only by prefix
(the secret's shape: bearer_secrets.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.access.revocation import revoked
from domain.errors import ValidationError
from domain.text import check_text
from domain.timeutil import require_aware

KEY_PREFIX = "bzk_live_"


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
        return revoked(self, at)  # the one rule: revocation.py


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """The one moment the secret exists outside the client's hands."""

    secret: str = field(repr=False)
    key: ApiKey
