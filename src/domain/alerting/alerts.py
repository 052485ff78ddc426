"""Alerts: budget thresholds crossed, calls refused by a hard limit, spending spikes, and
(the agency's own, with no client) a provider's bill drifting from what Bizgraph recorded.

An alert is stored in the same transaction as what raised it, and that stored row is the
webhook outbox: a dispatcher fans undispatched alerts out to the webhooks configured then and
marks them dispatched (at-least-once; the alert id is the stable event id receivers dedupe on)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AlertKind(StrEnum):
    BUDGET_THRESHOLD = "budget_threshold"  # period spend crossed one of the budget's thresholds
    HARD_LIMIT_REFUSED = "hard_limit_refused"  # a hard budget refused a call
    SPEND_SPIKE = "spend_spike"  # the last hour's spend far above the recent hourly average
    # a provider billed a day and model differently from what Bizgraph recorded (the agency's)
    RECONCILIATION_DRIFT = "reconciliation_drift"
    # dunning (docs/delivery.md): an invoice past its due date, and the suspension it leads to
    INVOICE_OVERDUE = "invoice_overdue"
    SUSPENSION_WARNING = "suspension_warning"  # the client's keys stop in a few days
    CLIENT_SUSPENDED = "client_suspended"  # ...and now did
    # closing could not compute a client's invoice (no tax rate for its country ...): the agency's
    INVOICE_REFUSED = "invoice_refused"
    PAYMENT_FAILED = "payment_failed"  # a Stripe payment (invoice, top-up) failed
    PAYMENT_REFUNDED = "payment_refunded"  # money was refunded to a client through Stripe
    PAYMENT_DISPUTED = "payment_disputed"  # a client disputed a charge (chargeback)
    PAYMENT_UNMATCHED = "payment_unmatched"  # money arrived that Bizgraph could not place
    # prepaid wallets (domain/wallets/): calls refused for want of balance, the balance under
    # its alert level, a period's fixed amounts it could not cover, an auto top-up that failed
    WALLET_REFUSED = "wallet_refused"
    WALLET_LOW_BALANCE = "wallet_low_balance"
    WALLET_SHORTFALL = "wallet_shortfall"
    AUTO_TOP_UP_FAILED = "auto_top_up_failed"
    # a soft budget in another currency than a call's price, no rate that day: the call passed
    # uncounted (docs/currencies.md); the agency's to fix
    BUDGET_UNCOUNTED = "budget_uncounted"


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    kind: AlertKind
    client_id: str | None  # None: the agency's own alert (reconciliation), for staff only
    key_id: str | None
    # At most one alert per dedupe key, e.g. "budget_threshold:<client>:<key or ->:<period>:80":
    # that is how "once per threshold per period" holds across processes.
    dedupe_key: str
    message: str
    created_at: datetime
    # Figures behind the alert as strings (amounts are Decimal strings), sent in webhook bodies.
    details: Mapping[str, str] = field(default_factory=dict)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    dispatched_at: datetime | None = None  # fanned out to webhooks

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None
