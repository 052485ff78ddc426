"""What a metrics scrape reads from the database: journal rows open, the webhook outbox and the
clients' budgets used. Two indexed aggregates and the budget statuses, at most once every
`ttl` seconds whatever the scrape rate (several Prometheus servers, a short interval)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.tables.alerts import webhook_deliveries
from adapters.persistence.tables.calls import call_journal
from adapters.telemetry.prometheus import Reading
from domain.alerting.webhooks import DeliveryStatus
from domain.budgets.limits import BudgetStatus
from domain.metering.journal import JournalState
from domain.ports import Clock

CACHE_SECONDS = 5.0

_OPEN = select(func.count()).where(call_journal.c.state == JournalState.STARTED.value)
_OUTBOX = select(func.count(), func.min(webhook_deliveries.c.created_at)).where(
    webhook_deliveries.c.status == DeliveryStatus.PENDING.value
)


class DatabaseProbe:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        client_budgets: Callable[[], Awaitable[Sequence[BudgetStatus]]],
        ttl: float = CACHE_SECONDS,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._client_budgets = client_budgets
        self._ttl = ttl
        self._reading = Reading()
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def read(self) -> Reading:
        """The cached reading, refreshed when older than the ttl; a database that does not
        answer leaves the last reading (the scrape still shows the in-process metrics)."""
        async with self._lock:
            now = time.monotonic()
            if self._read_at is None or now - self._read_at >= self._ttl:
                self._read_at = now
                self._reading = await self._fresh()
            return self._reading

    def pool_in_use(self) -> int:
        """Connections checked out of this process's engine pool."""
        checkedout = getattr(self._engine.pool, "checkedout", None)
        return int(checkedout()) if callable(checkedout) else 0

    async def _fresh(self) -> Reading:
        try:
            async with self._engine.connect() as conn:
                journal_open = (await conn.execute(_OPEN)).scalar_one()
                depth, oldest = (await conn.execute(_OUTBOX)).one()
            budgets = await self._client_budgets()
        except Exception:
            return self._reading
        return Reading(
            journal_open=int(journal_open),
            outbox_depth=int(depth),
            outbox_oldest_seconds=self._age(oldest),
            budget_used={
                s.budget.client_id: float(s.spent / s.budget.limit.amount)
                for s in budgets
                if s.budget.limit.amount > 0
            },
        )

    def _age(self, oldest: datetime | None) -> float:
        if oldest is None:
            return 0.0
        return max(0.0, (self._clock.now() - oldest).total_seconds())
