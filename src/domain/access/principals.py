"""Who may use the management API: staff tokens with a role, client-portal tokens bound to one
client, and the bootstrap owner token from the environment.

Secrets have the one shape of API keys (bearer_secrets.py: 256 random bits behind a distinct
prefix), shown once, and stored only as a keyed digest (the KeyHasher port) with a display prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.access.revocation import revoked
from domain.errors import DomainError, ValidationError
from domain.text import check_text
from domain.timeutil import require_aware

STAFF_PREFIX = "bzs_"
PORTAL_PREFIX = "bzp_"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class NotAllowed(DomainError):
    code = "not_allowed"


class Role(StrEnum):
    OWNER = "owner"  # everything, staff tokens included
    ADMIN = "admin"  # clients, keys, pricing, catalog
    VIEWER = "viewer"  # read-only, cost and profit included


def _check_name(name: str) -> None:
    if not name.strip():
        raise ValidationError("a token needs a name")
    check_text(name, "a token name", max_length=200)


@dataclass(frozen=True, slots=True)
class StaffToken:
    """A staff member's token: whose it is (`name`, `email`), with which role. A person with
    several devices holds several tokens, each revocable on its own."""

    id: str
    name: str
    role: Role
    prefix: str
    digest: str = field(repr=False)
    created_at: datetime
    revoked_at: datetime | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.email is not None:
            check_text(self.email, "an email address", max_length=320)
        if self.email is not None and "@" not in self.email:
            raise ValidationError(f"not an email address: {self.email!r}")
        require_aware(self.created_at, "created_at")
        object.__setattr__(self, "role", Role(self.role))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoked(self, at: datetime) -> StaffToken:
        return revoked(self, at)  # the one rule: revocation.py


@dataclass(frozen=True, slots=True)
class PortalToken:
    """A client-portal token: it sees exactly one client, at the client's price."""

    id: str
    client_id: str
    name: str
    prefix: str
    digest: str = field(repr=False)
    created_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        require_aware(self.created_at, "created_at")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoked(self, at: datetime) -> PortalToken:
        return revoked(self, at)  # the one rule: revocation.py


@dataclass(frozen=True, slots=True)
class IssuedStaffToken:
    secret: str = field(repr=False)
    token: StaffToken


@dataclass(frozen=True, slots=True)
class IssuedPortalToken:
    secret: str = field(repr=False)
    token: PortalToken


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """A staff member (or the bootstrap owner, whose token_id is None)."""

    name: str
    role: Role
    token_id: str | None = None

    @property
    def client_id(self) -> None:
        return None

    @property
    def can_read_costs(self) -> bool:
        return True

    @property
    def can_mutate(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_manage_staff(self) -> bool:
        return self.role is Role.OWNER

    def may_see_client(self, client_id: str) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class PortalPrincipal:
    """A person at one client: that client only, no provider cost, no profit, no writes."""

    client_id: str
    token_id: str
    name: str = "portal"

    @property
    def role(self) -> None:
        return None

    @property
    def can_read_costs(self) -> bool:
        return False

    @property
    def can_mutate(self) -> bool:
        return False

    @property
    def can_manage_staff(self) -> bool:
        return False

    def may_see_client(self, client_id: str) -> bool:
        return client_id == self.client_id


Principal = StaffPrincipal | PortalPrincipal
BOOTSTRAP_OWNER = StaffPrincipal(name="bootstrap owner", role=Role.OWNER, token_id=None)
