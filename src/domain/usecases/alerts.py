"""Listing and acknowledging alerts (raising them belongs to what detects them)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.alerting.alerts import Alert
from domain.errors import NotFound, ValidationError
from domain.ports import Clock, UnitOfWorkFactory

MAX_ALERTS = 500


class AlertUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def recent(
        self, client_ids: Sequence[str] | None, unacknowledged_only: bool, first: int
    ) -> list[Alert]:
        """Newest first; `client_ids` None means every client."""
        if not 1 <= first <= MAX_ALERTS:
            raise ValidationError(f"first must be between 1 and {MAX_ALERTS}")
        if client_ids is not None and not client_ids:
            return []
        async with self._uow() as uow:
            return await uow.alerts.recent(
                client_ids=client_ids, unacknowledged_only=unacknowledged_only, limit=first
            )

    async def get(self, alert_id: str) -> Alert | None:
        async with self._uow() as uow:
            return await uow.alerts.get(alert_id)

    async def acknowledge(self, alert_id: str, by: str) -> Alert:
        async with self._uow() as uow:
            alert = await uow.alerts.acknowledge(alert_id, by, self._clock.now())
            if alert is None:
                raise NotFound(f"no alert {alert_id}")
            await uow.commit()
        return alert
