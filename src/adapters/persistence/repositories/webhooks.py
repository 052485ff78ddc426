"""Webhooks and their deliveries; deliveries are claimed under a lease by a conditional UPDATE,
so two processes never make the same attempt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, RowMapping, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists, translated_errors
from adapters.persistence.tables.alerts import webhook_deliveries, webhooks
from domain.alerting.alerts import AlertKind
from domain.alerting.ports import WebhookRepository
from domain.alerting.webhooks import Delivery, DeliveryStatus, Webhook

_ERROR_CHARS = 500


def _webhook_row(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "client_id": webhook.client_id,
        "events": orjson.dumps([k.value for k in webhook.events]).decode(),
        "secret_salt": webhook.secret_salt,
        "created_at": webhook.created_at,
        "disabled_at": webhook.disabled_at,
    }


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        client_id=row["client_id"],
        events=tuple(AlertKind(k) for k in orjson.loads(row["events"])),
        secret_salt=row["secret_salt"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


def _delivery_row(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "alert_id": delivery.alert_id,
        "webhook_id": delivery.webhook_id,
        "payload": delivery.payload,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "locked_until": None,
        "claim": None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        alert_id=row["alert_id"],
        webhook_id=row["webhook_id"],
        payload=row["payload"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, due, and not leased to a live sender."""
    d = webhook_deliveries
    return and_(
        d.c.status == DeliveryStatus.PENDING.value,
        d.c.next_attempt_at <= now,
        or_(d.c.locked_until.is_(None), d.c.locked_until <= now),
    )


def _due(now: datetime) -> Select[tuple[str]]:
    """Ids of claimable deliveries of active webhooks."""
    d = webhook_deliveries
    return (
        select(d.c.id)
        .join(webhooks, webhooks.c.id == d.c.webhook_id)
        .where(_claimable(now), webhooks.c.disabled_at.is_(None))
    )


class SqlAlchemyWebhookRepository(WebhookRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, webhook: Webhook) -> None:
        async with translated_errors("webhooks"):
            await self._conn.execute(webhooks.insert().values(**_webhook_row(webhook)))

    async def get(self, webhook_id: str) -> Webhook | None:
        statement = select(webhooks).where(webhooks.c.id == webhook_id)
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else _webhook(row)

    async def find(
        self, *, client_id: str | None = None, include_disabled: bool = False
    ) -> list[Webhook]:
        statement = select(webhooks).order_by(webhooks.c.created_at, webhooks.c.id)
        if client_id is not None:
            statement = statement.where(webhooks.c.client_id == client_id)
        if not include_disabled:
            statement = statement.where(webhooks.c.disabled_at.is_(None))
        return [_webhook(row) for row in (await self._conn.execute(statement)).mappings()]

    async def disable(self, webhook_id: str, at: datetime) -> Webhook | None:
        await self._conn.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id, webhooks.c.disabled_at.is_(None))
            .values(disabled_at=at)
        )
        await self._conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.CANCELLED.value, locked_until=None, claim=None)
        )
        return await self.get(webhook_id)

    async def add_delivery(self, delivery: Delivery) -> bool:
        return await insert_unless_exists(
            self._conn, webhook_deliveries, _delivery_row(delivery), ["alert_id", "webhook_id"]
        )

    async def any_due(self, now: datetime) -> bool:
        return (await self._conn.execute(_due(now).limit(1))).first() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, claim: str, limit: int
    ) -> list[Delivery]:
        d = webhook_deliveries
        claimable = _claimable(now)
        candidates = _due(now).order_by(d.c.next_attempt_at, d.c.id).limit(limit)
        ids = list((await self._conn.execute(candidates)).scalars())
        if not ids:
            return []
        # The condition is evaluated again by the UPDATE itself: when two processes race for
        # a row, the second one's UPDATE waits for the first and then matches nothing.
        await self._conn.execute(
            update(d)
            .where(d.c.id.in_(ids), claimable)
            .values(locked_until=lease_until, claim=claim, attempts=d.c.attempts + 1)
        )
        mine = select(d).where(d.c.claim == claim).order_by(d.c.next_attempt_at, d.c.id)
        return [_delivery(row) for row in (await self._conn.execute(mine)).mappings()]

    async def record(self, delivery: Delivery, claim: str) -> bool:
        d = webhook_deliveries
        result = await self._conn.execute(
            update(d)
            .where(d.c.id == delivery.id, d.c.claim == claim)
            .values(
                status=delivery.status.value,
                next_attempt_at=delivery.next_attempt_at,
                last_status_code=delivery.last_status_code,
                last_error=(delivery.last_error or "")[:_ERROR_CHARS] or None,
                delivered_at=delivery.delivered_at,
                locked_until=None,
                claim=None,
            )
        )
        return bool(result.rowcount == 1)

    async def deliveries(self, webhook_ids: Sequence[str], limit: int) -> list[Delivery]:
        if not webhook_ids:
            return []
        d = webhook_deliveries
        newest_first = (d.c.created_at.desc(), d.c.id.desc())
        rank = func.row_number().over(partition_by=d.c.webhook_id, order_by=newest_first)
        ranked = (
            select(d, rank.label("rank")).where(d.c.webhook_id.in_(list(webhook_ids))).subquery()
        )
        statement = (
            select(ranked)
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.created_at.desc(), ranked.c.id.desc())
        )
        return [_delivery(row) for row in (await self._conn.execute(statement)).mappings()]
