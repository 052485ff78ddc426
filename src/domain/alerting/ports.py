"""Ports for alerting: the alert store, webhooks and the sender that delivers to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domain.alerting.alerts import Alert
from domain.alerting.webhooks import Delivery, SendResult, Webhook


class AlertRepository(Protocol):
    async def raise_once(self, alert: Alert) -> bool:
        """Store the alert unless one with its dedupe key exists (in any process): True when
        stored. Never fails on a duplicate, so it can run inside a settlement transaction."""
        ...

    async def get(self, alert_id: str) -> Alert | None: ...

    async def recent(
        self,
        *,
        client_ids: Sequence[str] | None = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[Alert]:
        """Newest first; `client_ids=None` means every client."""
        ...

    async def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert | None:
        """Acknowledge once (a second call keeps the first acknowledgement); None if unknown."""
        ...

    async def undispatched(self, limit: int) -> list[Alert]:
        """Alerts not yet fanned out to webhooks, oldest first."""
        ...

    async def mark_dispatched(self, alert_ids: Sequence[str], at: datetime) -> None: ...


class WebhookRepository(Protocol):
    async def add(self, webhook: Webhook) -> None:
        """Store a webhook (an unknown client is NotFound)."""
        ...

    async def get(self, webhook_id: str) -> Webhook | None: ...
    async def find(
        self, *, client_id: str | None = None, include_disabled: bool = False
    ) -> list[Webhook]:
        """Oldest first; `client_id` None means every webhook, else that client's only."""
        ...

    async def disable(self, webhook_id: str, at: datetime) -> Webhook | None:
        """Disable once (its pending deliveries are cancelled); None if unknown."""
        ...

    async def add_delivery(self, delivery: Delivery) -> bool:
        """Store the delivery unless one exists for its (alert, webhook): True when stored."""
        ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[Delivery]:
        """Atomically claim pending deliveries due at `now` of active webhooks whose lease
        has expired (or was never taken), counting the attempt: no other claimer gets them
        until `lease_until`, in any process."""
        ...

    async def any_due(self, now: datetime) -> bool:
        """Whether `claim_due` would find something now (a cheap read before a write)."""
        ...

    async def record(self, delivery: Delivery, claim: str) -> bool:
        """Store an attempt's outcome and release the lease, if `claim` still holds it."""
        ...

    async def deliveries(self, webhook_ids: Sequence[str], limit: int) -> list[Delivery]:
        """The newest `limit` deliveries of each webhook, newest first."""
        ...


class WebhookSender(Protocol):
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        """POST the body once with short timeouts; never raises for a network failure or a
        refused (non-public) destination, which come back as `SendResult.error`."""
        ...
