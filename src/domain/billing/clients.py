"""The agency's clients: who is billed, in which currency, at which tax rate."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import MAX_PERCENT_DECIMALS, bounded_decimal, validate_currency
from domain.errors import ValidationError
from domain.text import check_text
from domain.timeutil import require_aware


class ClientStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    created_at: datetime
    currency: str = "USD"
    billing_email: str | None = None
    tax_rate: Decimal = Decimal(0)
    status: ClientStatus = ClientStatus.ACTIVE

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("a client needs a name")
        check_text(self.name, "a client name", max_length=200)
        validate_currency(self.currency)
        require_aware(self.created_at, "created_at")
        rate = bounded_decimal(self.tax_rate, places=MAX_PERCENT_DECIMALS, what="tax rate")
        if rate > 100:
            raise ValidationError("tax rate is a percent between 0 and 100")
        object.__setattr__(self, "tax_rate", rate)
        if self.billing_email is not None:
            check_text(self.billing_email, "a billing email", max_length=320)
        if self.billing_email is not None and "@" not in self.billing_email:
            raise ValidationError(f"not an email address: {self.billing_email!r}")

    @property
    def is_active(self) -> bool:
        return self.status is ClientStatus.ACTIVE

    def with_status(self, status: ClientStatus) -> Client:
        return replace(self, status=status)
