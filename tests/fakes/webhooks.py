"""Webhooks and their deliveries (`ports.WebhookRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.alerting.webhooks import Delivery, DeliveryStatus, Webhook
from domain.errors import Conflict, NotFound
from tests.fakes.store import Repository

ERROR_CHARS = 500  # the longest error kept, as the SQL store keeps it


class FakeWebhookRepository(Repository):
    async def add(self, webhook: Webhook) -> None:
        if webhook.client_id is not None and webhook.client_id not in self._data.clients:
            raise NotFound(f"no client {webhook.client_id}")
        if webhook.id in self._data.webhooks:
            raise Conflict(f"webhook {webhook.id} exists")
        self._data.webhooks[webhook.id] = webhook

    async def get(self, webhook_id: str) -> Webhook | None:
        return self._data.webhooks.get(webhook_id)

    async def find(
        self, *, client_id: str | None = None, include_disabled: bool = False
    ) -> list[Webhook]:
        chosen = [
            w
            for w in self._data.webhooks.values()
            if (client_id is None or w.client_id == client_id) and (include_disabled or w.is_active)
        ]
        return sorted(chosen, key=lambda w: (w.created_at, w.id))

    async def disable(self, webhook_id: str, at: datetime) -> Webhook | None:
        webhook = self._data.webhooks.get(webhook_id)
        if webhook is None:
            return None
        if webhook.is_active:
            webhook = self._data.webhooks[webhook_id] = replace(webhook, disabled_at=at)
        for d in list(self._data.deliveries.values()):
            if d.webhook_id == webhook_id and d.status is DeliveryStatus.PENDING:
                self._data.deliveries[d.id] = replace(d, status=DeliveryStatus.CANCELLED)
                self._data.leases.pop(d.id, None)
        return webhook

    async def add_delivery(self, delivery: Delivery) -> bool:
        self._require("alert", delivery.alert_id in self._data.alerts, delivery.alert_id)
        known = delivery.webhook_id in self._data.webhooks
        self._require("webhook", known, delivery.webhook_id)
        pair = (delivery.alert_id, delivery.webhook_id)
        if any((d.alert_id, d.webhook_id) == pair for d in self._data.deliveries.values()):
            return False
        self._data.deliveries[delivery.id] = delivery
        return True

    def _due(self, now: datetime) -> list[Delivery]:
        due = [
            d
            for d in self._data.deliveries.values()
            if d.status is DeliveryStatus.PENDING
            and d.next_attempt_at <= now
            and (d.id not in self._data.leases or self._data.leases[d.id][1] <= now)
            and self._data.webhooks[d.webhook_id].is_active
        ]
        return sorted(due, key=lambda d: (d.next_attempt_at, d.id))

    async def any_due(self, now: datetime) -> bool:
        return bool(self._due(now))

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[Delivery]:
        claimed = []
        for d in self._due(now)[:limit]:
            d = self._data.deliveries[d.id] = replace(d, attempts=d.attempts + 1)
            self._data.leases[d.id] = (claim, lease_until)
            claimed.append(d)
        return claimed

    async def record(self, delivery: Delivery, claim: str) -> bool:
        lease = self._data.leases.get(delivery.id)
        if lease is None or lease[0] != claim:
            return False
        del self._data.leases[delivery.id]
        stored = self._data.deliveries[delivery.id]
        self._data.deliveries[delivery.id] = replace(  # the outcome; attempts were counted
            stored,
            status=delivery.status,
            next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=(delivery.last_error or "")[:ERROR_CHARS] or None,
            delivered_at=delivery.delivered_at,
        )
        return True

    async def deliveries(self, webhook_ids: Sequence[str], limit: int) -> list[Delivery]:
        newest = sorted(
            (d for d in self._data.deliveries.values() if d.webhook_id in webhook_ids),
            key=lambda d: (d.created_at, d.id),
            reverse=True,
        )
        kept: list[Delivery] = []
        for webhook_id in dict.fromkeys(d.webhook_id for d in newest):
            kept += [d for d in newest if d.webhook_id == webhook_id][:limit]
        return sorted(kept, key=lambda d: (d.created_at, d.id), reverse=True)
