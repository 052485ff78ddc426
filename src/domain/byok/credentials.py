"""A client's own credential for a provider, and the client's BYOK settings.

The secret itself only exists decrypted in memory (`UpstreamCredential`, built once per
configuration revision); what is stored is `StoredCredential` (ciphertext with the id of the
key that encrypted it) and what is ever shown is `MaskedCredential` (the last four characters
and when it was last used).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.billing.money import Money
from domain.byok.fees import ByokFee, FeeKind
from domain.errors import ValidationError

MAX_SECRET_CHARS = 512
MAX_MODELS = 200
MAX_ID_CHARS = 200
_FORBIDDEN = ("\r", "\n", "\0")


INCLUDED = ByokFee(FeeKind.INCLUDED)  # the default: BYOK calls are included in the plan


class BudgetBasis(StrEnum):
    FEE = "fee"  # a budget counts the BYOK fee charged
    LIST_COST = "list_cost"  # a budget counts the list cost the provider bills the client


class OnRevoke(StrEnum):
    AGENCY = "agency"  # without the client's credential, calls use the agency's key
    REFUSE = "refuse"  # ... or are refused with a clear error


@dataclass(frozen=True, slots=True)
class ByokSettings:
    client_id: str
    fee: ByokFee = INCLUDED
    budget_basis: BudgetBasis = BudgetBasis.FEE
    fallback_to_agency: bool = False  # may a BYOK call fall back to an agency-paid model
    on_revoke: OnRevoke = OnRevoke.AGENCY


def clean_text(value: str | None, what: str, limit: int = MAX_ID_CHARS) -> str | None:
    """An optional one-line value sent as (or in) a header: printable ASCII only."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit or not _header_safe(value):
        raise ValidationError(f"{what} must be at most {limit} printable ASCII characters")
    return value


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable() and not any(c in value for c in _FORBIDDEN)


@dataclass(frozen=True, slots=True)
class CredentialInput:
    """What an operator submits (the secret in clear, validated before it is stored)."""

    client_id: str
    provider: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    models: tuple[str, ...] = ()  # empty: every model of the provider

    def __post_init__(self) -> None:
        key = self.api_key.strip()
        if not 8 <= len(key) <= MAX_SECRET_CHARS or not _header_safe(key) or " " in key:
            raise ValidationError("the API key must be 8 to 512 printable ASCII characters")
        object.__setattr__(self, "api_key", key)
        if not 0 < len(self.provider) <= 100 or not _header_safe(self.provider):
            raise ValidationError("a provider name (openai, anthropic, google) is required")
        object.__setattr__(self, "base_url", clean_text(self.base_url, "the base URL", 2000))
        object.__setattr__(self, "organization", clean_text(self.organization, "organization"))
        object.__setattr__(self, "project", clean_text(self.project, "project"))
        if len(self.models) > MAX_MODELS:
            raise ValidationError(f"at most {MAX_MODELS} models per credential")
        models = tuple(sorted({m.strip() for m in self.models if m.strip()}))
        for model in models:
            if (
                not model.startswith(self.provider + "/")
                or len(model) > MAX_ID_CHARS
                or not _header_safe(model)
            ):
                raise ValidationError(f"{model!r} is not a model of {self.provider}")
        object.__setattr__(self, "models", models)

    @property
    def last4(self) -> str:
        return self.api_key[-4:]


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential as the database holds it: the secret only as ciphertext."""

    id: str
    client_id: str
    provider: str
    ciphertext: bytes = field(repr=False)
    key_id: str  # which derived key encrypted it (rotation re-encrypts under the current one)
    last4: str
    base_url: str | None
    organization: str | None
    project: str | None
    models: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None  # removed: kept (ciphertext wiped) so "refuse" applies

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def covers(self, model_id: str, provider: str) -> bool:
        return provider == self.provider and (not self.models or model_id in self.models)


@dataclass(frozen=True, slots=True)
class MaskedCredential:
    """All that is ever shown of a credential."""

    id: str
    client_id: str
    provider: str
    last4: str
    base_url: str | None
    organization: str | None
    project: str | None
    models: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, stored: StoredCredential) -> MaskedCredential:
        return cls(
            stored.id,
            stored.client_id,
            stored.provider,
            stored.last4,
            stored.base_url,
            stored.organization,
            stored.project,
            stored.models,
            stored.created_at,
            stored.last_used_at,
            stored.revoked_at,
        )

    @property
    def masked_key(self) -> str:
        return f"…{self.last4}"


@dataclass(frozen=True, slots=True, weakref_slot=True)
class UpstreamCredential:
    """The decrypted credential a call sends upstream (in memory only; never logged: the
    key is left out of repr). Weakly referenceable, so what is built from it per credential
    (the provider views) goes once a new revision's configuration replaced it."""

    id: str
    provider: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True)
class ClientByok:
    """A client's BYOK configuration as of one revision: its settings and credentials (the
    removed ones kept, so `on_revoke=refuse` knows which models were BYOK)."""

    settings: ByokSettings
    credentials: tuple[tuple[StoredCredential, UpstreamCredential | None], ...]

    def credential_for(self, model_id: str, provider: str) -> UpstreamCredential | None:
        """The active credential serving this model: one naming the model wins over one for
        all the provider's models."""
        best: UpstreamCredential | None = None
        for stored, upstream in self.credentials:
            if upstream is None or not stored.active or not stored.covers(model_id, provider):
                continue
            if stored.models:
                return upstream
            best = upstream
        return best

    def revoked_for(self, model_id: str, provider: str) -> bool:
        """Whether a removed (or unreadable) credential covered this model and no active one
        does."""
        if self.credential_for(model_id, provider) is not None:
            return False
        return any(
            (not stored.active or upstream is None) and stored.covers(model_id, provider)
            for stored, upstream in self.credentials
        )


def by_client(
    settings: Mapping[str, ByokSettings],
    credentials: Mapping[str, list[tuple[StoredCredential, UpstreamCredential | None]]],
) -> dict[str, ClientByok]:
    """Every client with any BYOK configuration, by id."""
    ids = set(settings) | set(credentials)
    return {
        client_id: ClientByok(
            settings.get(client_id) or ByokSettings(client_id),
            tuple(credentials.get(client_id, ())),
        )
        for client_id in ids
    }


@dataclass(frozen=True, slots=True)
class ByokUsage:
    """A client's calls with its own key to one model in a period: what its provider billed
    it directly at list price (`list_cost`) and the agency's fee (`fee`, its charge)."""

    client_id: str
    model_id: str
    requests: int
    input_tokens: int
    output_tokens: int
    list_cost: Money
    fee: Money
