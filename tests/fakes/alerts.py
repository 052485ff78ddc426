"""Alerts (`ports.AlertRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.alerting.alerts import Alert
from tests.fakes.store import Repository


class FakeAlertRepository(Repository):
    async def raise_once(self, alert: Alert) -> bool:
        if any(a.dedupe_key == alert.dedupe_key for a in self._data.alerts.values()):
            return False
        if alert.client_id is not None:  # None: the agency's own alert (a reconciliation drift)
            self._require("client", alert.client_id in self._data.clients, alert.client_id)
        self._data.alerts[alert.id] = alert
        return True

    async def get(self, alert_id: str) -> Alert | None:
        return self._data.alerts.get(alert_id)

    async def recent(
        self,
        *,
        client_ids: Sequence[str] | None = None,
        unacknowledged_only: bool = False,
        limit: int = 100,
    ) -> list[Alert]:
        chosen = [
            a
            for a in self._data.alerts.values()
            if (client_ids is None or a.client_id in client_ids)
            and not (unacknowledged_only and a.acknowledged)
        ]
        chosen.sort(key=lambda a: (a.created_at, a.id), reverse=True)
        return chosen[:limit]

    async def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert | None:
        alert = self._data.alerts.get(alert_id)
        if alert is not None and not alert.acknowledged:
            alert = self._data.alerts[alert_id] = replace(
                alert, acknowledged_at=at, acknowledged_by=by
            )
        return alert

    async def undispatched(self, limit: int) -> list[Alert]:
        pending = [a for a in self._data.alerts.values() if a.dispatched_at is None]
        return sorted(pending, key=lambda a: (a.created_at, a.id))[:limit]

    async def mark_dispatched(self, alert_ids: Sequence[str], at: datetime) -> None:
        for alert_id in alert_ids:
            alert = self._data.alerts.get(alert_id)
            if alert is not None and alert.dispatched_at is None:
                self._data.alerts[alert_id] = replace(alert, dispatched_at=at)
