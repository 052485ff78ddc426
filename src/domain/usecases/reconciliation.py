"""Reconciliation runs: fetch a provider's own report for some days (or take an imported one),
keep it, compare it with the usage records, alert on drift and remember how far each provider
is reconciled. The table itself is always computed from what is stored, so the CLI, the daily
job and the management API show the same figures."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from domain.errors import ValidationError
from domain.ports import Clock, UnitOfWorkFactory
from domain.reconciliation import (
    ProviderFigures,
    ReconciliationRow,
    ReconciliationTable,
    RecordedFigures,
    ReportOrigin,
    days_between,
    drift_alert,
    estimated_hours,
    reconcile,
)

log = logging.getLogger("bizgraph.reconciliation")

# Providers settle their reports for a few days: the daily job compares the last few days again.
RECHECK_DAYS = 3
FIRST_RUN_DAYS = 7  # how far back the first daily run reaches
MAX_CATCH_UP_DAYS = 31  # a job that was down long catches up this much at most


class ProviderUsageReports(Protocol):
    """One provider's usage and cost reporting API (an admin credential)."""

    provider: str

    async def daily(self, start: date, end: date) -> list[ProviderFigures]:
        """Per UTC day of [start, end): usage and cost rows, per model (and key or project)."""
        ...

    async def hourly(self, day: date) -> list[ProviderFigures]:
        """The day's usage per UTC hour and model (`hour` set), for crash-estimated calls."""
        ...

    async def aclose(self) -> None: ...


class ReconciliationStore(Protocol):
    async def replace_reports(
        self,
        provider: str,
        days: Sequence[date],
        rows: Sequence[ProviderFigures],
        origin: ReportOrigin,
        at: datetime,
        *,
        hourly: bool = False,
    ) -> None:
        """Forget the provider's stored rows of those days (daily or hourly ones) and keep these
        instead: the last report or import of a day wins."""
        ...

    async def reports(
        self, start: date, end: date, providers: Sequence[str] | None
    ) -> list[ProviderFigures]: ...

    async def recorded(
        self, start: date, end: date, providers: Sequence[str] | None
    ) -> list[RecordedFigures]:
        """Usage records started in those UTC days, per UTC hour, provider and upstream model."""
        ...

    async def reconciled_through(self) -> dict[str, date]: ...

    async def mark_reconciled(self, provider: str, through: date, at: datetime) -> None:
        """Move the provider's mark forward (never back)."""
        ...


@dataclass(frozen=True, slots=True)
class DriftRule:
    """A row alerts when its cost drift is above `percent` of the recorded cost (or nothing was
    recorded) and above `minimum` in absolute terms."""

    percent: Decimal = Decimal(1)
    minimum: Decimal = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ReconciliationRun:
    table: ReconciliationTable
    fetched: tuple[str, ...]  # providers whose reports were fetched
    alerts_raised: int


def utc_day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class Reconciliation:
    def __init__(
        self,
        store: ReconciliationStore,
        uow: UnitOfWorkFactory,
        clock: Clock,
        sources: Mapping[str, ProviderUsageReports],
        rule: DriftRule,
    ) -> None:
        self._store = store
        self._uow = uow
        self._clock = clock
        self._sources = dict(sources)
        self.rule = rule

    @property
    def configured(self) -> tuple[str, ...]:
        """The providers with an admin credential (fetched by the job and the CLI)."""
        return tuple(sorted(self._sources))

    def _providers(self, providers: Sequence[str] | None) -> list[str] | None:
        if providers is None or not providers:
            return None
        return sorted(set(providers))

    async def table(
        self, start: date, end: date, providers: Sequence[str] | None = None
    ) -> ReconciliationTable:
        """The drift table of the UTC days [start, end) from what is stored: the asked
        providers, or every provider with an admin credential or a stored report (so the
        offline demo provider, say, is left out)."""
        days_between(start, end)
        chosen = self._providers(providers)
        recorded = await self._store.recorded(start, end, chosen)
        reported = await self._store.reports(start, end, chosen)
        if chosen is None:
            shown = set(self._sources) | {r.provider for r in reported}
            recorded = [r for r in recorded if r.provider in shown]
        marks = await self._store.reconciled_through()
        return ReconciliationTable(start, end, tuple(reconcile(recorded, reported)), marks)

    async def reconciled_through(self) -> dict[str, date]:
        return await self._store.reconciled_through()

    async def run(
        self, start: date, end: date, providers: Sequence[str] | None = None
    ) -> ReconciliationRun:
        """Fetch the configured providers' reports of [start, end) (the asked ones: each must
        be configured), keep them, alert on drift and move the marks."""
        days = days_between(start, end)
        chosen = self._providers(providers)
        if chosen is not None:
            missing = [p for p in chosen if p not in self._sources]
            if missing and not await self._has_imports(start, end, missing):
                raise ValidationError(
                    f"no admin credential for {', '.join(missing)} and no imported report "
                    f"for those days (configured: {', '.join(self.configured) or 'none'})"
                )
        fetching = [p for p in (chosen or self.configured) if p in self._sources]
        now = self._clock.now()
        for provider in fetching:
            rows = await self._sources[provider].daily(start, end)
            await self._store.replace_reports(provider, days, rows, ReportOrigin.API, now)
        await self._fetch_estimated_hours(start, end, fetching, now)
        table = await self.table(start, end, chosen)
        raised = await self._alert(table.rows)
        # Only whole days count as reconciled: today's report is still growing.
        last = min(end, now.astimezone(UTC).date()) - timedelta(days=1)
        for provider in fetching if last >= start else []:
            await self._store.mark_reconciled(provider, last, now)
        table = ReconciliationTable(
            table.start, table.end, table.rows, await self._store.reconciled_through()
        )
        return ReconciliationRun(table, tuple(fetching), raised)

    async def _has_imports(self, start: date, end: date, providers: Sequence[str]) -> bool:
        found = {r.provider for r in await self._store.reports(start, end, providers)}
        return all(p in found for p in providers)

    async def _fetch_estimated_hours(
        self, start: date, end: date, providers: Sequence[str], now: datetime
    ) -> None:
        """The provider's hourly figures of each day with crash-estimated calls, so those
        calls are shown beside what the provider saw in the same hour."""
        if not providers:
            return
        recorded = await self._store.recorded(start, end, providers)
        for provider, days in sorted(estimated_hours(recorded).items()):
            source = self._sources.get(provider)
            if source is None:
                continue
            for day in sorted(days):
                rows = await source.hourly(day)
                await self._store.replace_reports(
                    provider, [day], rows, ReportOrigin.API, now, hourly=True
                )

    async def import_report(
        self, provider: str, rows: Sequence[ProviderFigures], origin: ReportOrigin
    ) -> ReconciliationRun:
        """Keep an imported report (a billing export, an invoice) for the days it covers,
        replacing what was stored for them, and reconcile those days."""
        if not rows:
            raise ValidationError("the file has no rows for this provider")
        if any(r.provider != provider for r in rows):
            raise ValidationError(f"every row must be of provider {provider!r}")
        covered = sorted({r.day for r in rows})
        start, end = covered[0], covered[-1] + timedelta(days=1)
        days_between(start, end)
        now = self._clock.now()
        await self._store.replace_reports(provider, covered, rows, origin, now)
        table = await self.table(start, end, [provider])
        raised = await self._alert(table.rows)
        last = min(covered[-1], now.astimezone(UTC).date() - timedelta(days=1))
        if last >= start:
            await self._store.mark_reconciled(provider, last, now)
        table = ReconciliationTable(
            table.start, table.end, table.rows, await self._store.reconciled_through()
        )
        return ReconciliationRun(table, (), raised)

    async def daily(self) -> ReconciliationRun | None:
        """The job of `bizgraph serve`: when a configured provider is not reconciled through
        yesterday (UTC), reconcile from its mark (minus RECHECK_DAYS, as reports settle late)
        through yesterday. None when there is nothing to do."""
        if not self._sources:
            return None
        today = self._clock.now().astimezone(UTC).date()
        yesterday = today - timedelta(days=1)
        marks = await self._store.reconciled_through()
        due = [p for p in self.configured if marks.get(p, date.min) < yesterday]
        if not due:
            return None
        earliest = today - timedelta(days=MAX_CATCH_UP_DAYS)
        starts = [
            marks[p] - timedelta(days=RECHECK_DAYS - 1)
            if p in marks
            else today - timedelta(days=FIRST_RUN_DAYS)
            for p in due
        ]
        start = max(earliest, min(starts))
        return await self.run(start, today, due)

    async def _alert(self, rows: Sequence[ReconciliationRow]) -> int:
        drifting = [r for r in rows if r.exceeds(self.rule.percent, self.rule.minimum)]
        if not drifting:
            return 0
        now = self._clock.now()
        raised = 0
        async with self._uow() as uow:
            for row in drifting:
                raised += await uow.alerts.raise_once(drift_alert(row, self.rule.percent, now))
            await uow.commit()
        if raised:
            log.warning("reconciliation: %d rows drift above %s%%", raised, self.rule.percent)
        return raised

    async def aclose(self) -> None:
        for source in self._sources.values():
            await source.aclose()
