"""A wallet's statement: every movement of its balance as an append-only entry. The balance
is the sum of the entries, always (`bizgraph ledger verify` checks each wallet)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import Money, exact_sum
from domain.budgets.limits import WALLET_PERIOD, Spend
from domain.errors import ValidationError
from domain.ids import new_id
from domain.timeutil import require_aware
from domain.wallets.wallets import MAX_NOTE, MAX_REFERENCE


class EntryKind(StrEnum):
    TOP_UP = "top_up"  # money in: an operator, a payment page, an auto top-up
    USAGE = "usage"  # a call's charge (one entry per call)
    FIXED = "fixed"  # a period's fixed amount of the plan (monthly fee or price)
    REFUND = "refund"  # money given back to the client (out of the wallet)
    ADJUSTMENT = "adjustment"  # an operator's correction, signed, with a reason


@dataclass(frozen=True, slots=True)
class WalletEntry:
    id: str
    client_id: str
    kind: EntryKind
    amount: Money  # signed: credits positive, draws negative
    reference: str  # unique: a repeated credit with one reference credits once
    occurred_at: datetime
    source: str = ""  # who or what made it: "operator", "stripe", "auto_top_up", "gateway"
    note: str = ""

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")
        if not self.reference or len(self.reference) > MAX_REFERENCE:
            raise ValidationError(f"a reference is 1 to {MAX_REFERENCE} characters")
        if len(self.note) > MAX_NOTE:
            raise ValidationError(f"a note is at most {MAX_NOTE} characters")
        if self.kind is EntryKind.TOP_UP and self.amount.amount <= 0:
            raise ValidationError("a top-up must be positive")
        draws = (EntryKind.USAGE, EntryKind.FIXED, EntryKind.REFUND)
        if self.kind in draws and self.amount.amount > 0:
            raise ValidationError(f"a {self.kind.value} entry draws (it is not positive)")


def usage_draw(spend: Spend) -> WalletEntry | None:
    """The statement entry of a call's settled spend on a wallet (None: not a wallet's, or
    nothing drawn). One per call: its reference is the request id."""
    client_id = spend.wallet_client
    if client_id is None or spend.amount == 0 or spend.request_id is None:
        return None
    return WalletEntry(
        id=new_id(),
        client_id=client_id,
        kind=EntryKind.USAGE,
        amount=Money(spend.amount.copy_negate(), spend.currency),
        reference=f"usage:{spend.request_id}",
        occurred_at=spend.occurred_at or WALLET_PERIOD.start,
        source="gateway",
    )


def balance_of(entries: Iterable[WalletEntry]) -> Decimal:
    return exact_sum(*(entry.amount.amount for entry in entries))


@dataclass(frozen=True, slots=True)
class StatementPage:
    entries: Sequence[WalletEntry]  # newest first
    total: int  # entries in the whole statement
