"""The append-only ledger per client: corrections are new entries, never edits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.billing.money import Money, sum_money
from domain.timeutil import require_aware


class EntryKind(StrEnum):
    USAGE_CHARGE = "usage_charge"
    FEE = "fee"
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT = "credit"
    REFUND = "refund"  # money given back through the payment processor (owed again)
    DISPUTE = "dispute"  # money withdrawn by a chargeback (owed again)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """`reference` is unique per client and kind (a usage record id, an invoice id ...),
    which makes posting idempotent."""

    id: str
    client_id: str
    kind: EntryKind
    amount: Money
    occurred_at: datetime
    reference: str
    description: str = ""

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")


def balance(entries: Iterable[LedgerEntry], currency: str) -> Money:
    return sum_money([e.amount for e in entries], currency)
