"""Soft budgets a call could not count (docs/currencies.md): a budget in another currency than
the call's price, with no exchange rate in force that day, lets the call pass uncounted. That
must not stay silent: the agency gets one alert per budget, price currency and day (the
dedupe key), written with the next batch of call writes, never on the call's path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.alerting.budget_alerts import owner_of, uncounted_alert
from domain.billing.clients import Client
from domain.budgets.limits import Budget
from domain.ports import Clock, UnitOfWork
from domain.runtime_ports import Writes


class UncountedBudgets:
    def __init__(self, writes: Writes, clock: Clock) -> None:
        self._writes = writes
        self._clock = clock
        self._day: date | None = None
        self._noted: set[tuple[str, str]] = set()  # (scope, price currency) alerted on _day

    def note(
        self, client: Client, skipped: Sequence[Budget], price_currency: str, day: date
    ) -> None:
        """Alert once per budget, price currency and day, without waiting. Best effort, as
        the batch's other deferred writes: a write lost to a database outage is tried again
        by another process, or by this one the next day (the alert's dedupe key keeps it
        one alert whoever writes it)."""
        if day != self._day:
            self._day, self._noted = day, set()
        fresh = [b for b in skipped if (b.scope, price_currency) not in self._noted]
        if not fresh:
            return
        now = self._clock.now()
        alerts = [
            uncounted_alert(b, owner_of(client.name, b.key_id), price_currency, day, now)
            for b in fresh
        ]

        async def job(uow: UnitOfWork) -> None:
            for alert in alerts:
                await uow.alerts.raise_once(alert)

        self._noted.update((b.scope, price_currency) for b in fresh)
        scopes = tuple(sorted(b.scope for b in fresh))  # a later note must not replace this one
        self._writes.defer(("budget_uncounted", scopes, price_currency, day), job)
