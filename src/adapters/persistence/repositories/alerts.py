"""Alerts, each stored once per dedupe key; the undispatched ones are the webhook outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.tables.alerts import alerts
from domain.alerting.alerts import Alert, AlertKind
from domain.alerting.ports import AlertRepository


def alert_to_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "client_id": alert.client_id,
        "key_id": alert.key_id,
        "dedupe_key": alert.dedupe_key,
        "message": alert.message,
        "details": orjson.dumps(dict(alert.details)).decode(),
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
        "dispatched_at": alert.dispatched_at,
    }


def _from_row(row: RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        kind=AlertKind(row["kind"]),
        client_id=row["client_id"],
        key_id=row["key_id"],
        dedupe_key=row["dedupe_key"],
        message=row["message"],
        details=orjson.loads(row["details"]),
        created_at=row["created_at"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        dispatched_at=row["dispatched_at"],
    )


class SqlAlchemyAlertRepository(AlertRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def raise_once(self, alert: Alert) -> bool:
        return await insert_unless_exists(self._conn, alerts, alert_to_row(alert), ["dedupe_key"])

    async def get(self, alert_id: str) -> Alert | None:
        row = (
            (await self._conn.execute(select(alerts).where(alerts.c.id == alert_id)))
            .mappings()
            .first()
        )
        return _from_row(row) if row is not None else None

    async def recent(
        self,
        *,
        client_ids: Sequence[str] | None = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[Alert]:
        statement = select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
        if client_ids is not None:
            statement = statement.where(alerts.c.client_id.in_(list(client_ids)))
        if unacknowledged_only:
            statement = statement.where(alerts.c.acknowledged_at.is_(None))
        rows = (await self._conn.execute(statement.limit(limit))).mappings()
        return [_from_row(row) for row in rows]

    async def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert | None:
        # Conditional: a second acknowledgement keeps the first one's instant and author.
        await self._conn.execute(
            update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=by)
        )
        return await self.get(alert_id)

    async def undispatched(self, limit: int) -> list[Alert]:
        statement = (
            select(alerts)
            .where(alerts.c.dispatched_at.is_(None))
            .order_by(alerts.c.created_at, alerts.c.id)
            .limit(limit)
        )
        return [_from_row(row) for row in (await self._conn.execute(statement)).mappings()]

    async def mark_dispatched(self, alert_ids: Sequence[str], at: datetime) -> None:
        if alert_ids:
            await self._conn.execute(
                update(alerts)
                .where(alerts.c.id.in_(list(alert_ids)), alerts.c.dispatched_at.is_(None))
                .values(dispatched_at=at)
            )
