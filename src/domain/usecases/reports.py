"""Read-side use cases for dashboards: overview and per-client usage for a billing month.

Usage is aggregated by the store (UsageRepository.totals), plans are read in one query for
every client, so an overview costs three reads whatever the number of clients.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from domain.billing.clients import Client
from domain.billing.exchange import Conversions, MissingRate, RateBook
from domain.billing.money import Money
from domain.billing.periods import Period, month_period, period_containing
from domain.billing.plans import PlanTimeline
from domain.errors import NotFound
from domain.invoicing.conversion import converted_draft
from domain.invoicing.drafts import PeriodDraft, draft_from_totals
from domain.metering.usage import UsageGrouping, UsageRecord, UsageTotals
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.reporting import Reporting, in_reporting_currency
from domain.reports import (
    Bucket,
    ClientFigures,
    Overview,
    SeriesPoint,
    UnpricedClient,
    in_currency,
    series,
)

# For a closed period: each client's invoiced revenue (absent: no invoice); None while open.
InvoicedRevenue = Callable[[Period, Sequence[str]], Awaitable[Mapping[str, Money] | None]]


class ReportUseCases:
    def __init__(
        self,
        reads: UnitOfWorkFactory,
        clock: Clock,
        zone: ZoneInfo | None = None,
        invoiced: InvoicedRevenue | None = None,
        rates: Callable[[], Awaitable[RateBook]] | None = None,
        reporting_currency: str = "USD",
    ):
        self._reads = reads
        self._clock = clock
        self._zone = zone or ZoneInfo("UTC")
        self._invoiced = invoiced
        self._rates = rates  # the exchange rates (docs/currencies.md)
        self._reporting_currency = reporting_currency

    async def _book(self) -> RateBook:
        return RateBook() if self._rates is None else await self._rates()

    async def reporting(self, overview: Overview) -> Reporting:
        """The overview's totals in the reporting currency, with the rates used."""
        return in_reporting_currency(overview, await self._book(), self._reporting_currency)

    @property
    def zone_name(self) -> str:
        """The agency's time zone (IANA name): billing months and days are counted in it."""
        return self._zone.key

    def period(self, label: str | None = None) -> Period:
        """The month `label` ("YYYY-MM") in the agency's time zone, default the current one."""
        if label:
            return month_period(label, self._zone)
        return period_containing(self._clock.now(), self._zone)

    async def overview(
        self, label: str | None = None, client_ids: Sequence[str] | None = None
    ) -> Overview:
        """Figures of `client_ids` (every client when None) for the month. A client whose usage
        needs a rate that is missing is listed in `unpriced` with the MissingRate (the others
        still answer); the money totals are then None (docs/currencies.md)."""
        period = self.period(label)
        async with self._reads() as uow:
            clients = await _chosen(uow, client_ids)
            ids = [c.id for c in clients]
            totals = await uow.usage.totals(period.start, period.end, UsageGrouping.CLIENT, ids)
            plans = await uow.plans.histories(ids)
            by_client: dict[str, list[UsageTotals]] = {}
            for row in totals:
                by_client.setdefault(row.client_id, []).append(row)
            figures: list[ClientFigures] = []
            unpriced: list[UnpricedClient] = []
            book: RateBook | None = None
            for client in clients:
                timeline = PlanTimeline(plans.get(client.id, ()))
                mine = by_client.get(client.id, ())
                if _in_currency(mine, client.currency) and _fixed_in(timeline, client.currency):
                    draft = draft_from_totals(period, timeline, mine, client.currency)
                    figures.append(ClientFigures(client, draft))
                    continue
                # usage in another currency: each call at its day's rate
                book = book or await self._book()
                records = await uow.usage.for_client(client.id, period.start, period.end)
                conversions = Conversions(book, client.currency)
                try:
                    draft = converted_draft(period, timeline, records, conversions, self._zone)
                except MissingRate as missing:  # this client only: the others still answer
                    calls = sum(row.requests for row in mine)
                    unpriced.append(UnpricedClient(client, missing, calls))
                    continue
                figures.append(ClientFigures(client, draft))
        rows = await self._with_invoices(period, tuple(figures))
        return Overview(period, rows, tuple(unpriced))

    async def _with_invoices(
        self, period: Period, rows: tuple[ClientFigures, ...]
    ) -> tuple[ClientFigures, ...]:
        """A closed period's revenue is what its invoices billed (zero without one)."""
        if self._invoiced is None or not rows:
            return rows
        billed = await self._invoiced(period, [row.client.id for row in rows])
        if billed is None:
            return rows
        return tuple(
            ClientFigures(
                row.client,
                replace(
                    row.draft,
                    invoiced=billed.get(row.client.id, Money.zero(row.draft.currency)),
                ),
            )
            for row in rows
        )

    async def client_draft(self, client_id: str, label: str | None = None) -> PeriodDraft:
        """One client's figures for the month (the draft invoice so far)."""
        overview = await self.overview(label, [client_id])
        for unpriced in overview.unpriced:  # its figures need a rate: say which, never partial
            raise unpriced.missing
        if not overview.rows:
            raise NotFound(f"no client {client_id}")
        return overview.rows[0].draft

    async def by_model(self, client_id: str, label: str | None = None) -> list[UsageTotals]:
        period = self.period(label)
        async with self._reads() as uow:
            rows = await uow.usage.totals(
                period.start, period.end, UsageGrouping.MODEL, [client_id]
            )
        return list(rows)

    async def by_alias(self, client_id: str, label: str | None = None) -> list[UsageTotals]:
        """The month's calls of a client made through an alias, per alias and the model that
        answered (each attempt counted where it was billed)."""
        period = self.period(label)
        async with self._reads() as uow:
            rows = await uow.usage.totals(
                period.start, period.end, UsageGrouping.ALIAS, [client_id]
            )
        return list(rows)

    async def estimated(
        self, client_id: str, label: str | None = None, first: int = 100
    ) -> list[UsageRecord]:
        """The month's estimated records of a client, newest first: calls the provider never
        reported (cut streams, crashes), to reconcile against the provider's console."""
        period = self.period(label)
        async with self._reads() as uow:
            found = await uow.usage.estimated(client_id, period.start, period.end, first)
        return list(found)

    async def series(
        self, client_id: str, bucket: Bucket, label: str | None = None
    ) -> list[SeriesPoint]:
        period = self.period(label)
        async with self._reads() as uow:
            client = await uow.clients.get(client_id)
            hours = await uow.usage.totals(
                period.start, period.end, UsageGrouping.HOUR, [client_id]
            )
        if client is None:
            return []
        # in the client's currency, each hour at its day's rate (MissingRate without one)
        return series(await self._converted(hours, client.currency), bucket, self._zone)

    async def total_series(
        self, bucket: Bucket, label: str | None = None, client_ids: Sequence[str] | None = None
    ) -> list[SeriesPoint] | None:
        """The usage of `client_ids` (every client when None) summed per hour or local day, one
        read for all, in the clients' currency (an hour priced in another one at its day's
        rate); None when they bill in several currencies (never added across them) or a rate
        is missing (the overview names it)."""
        period = self.period(label)
        async with self._reads() as uow:
            clients = await _chosen(uow, client_ids)
            currencies = {c.currency for c in clients}
            if len(currencies) > 1:
                return None
            ids = [c.id for c in clients]
            hours = await uow.usage.totals(period.start, period.end, UsageGrouping.HOUR_ALL, ids)
        if not currencies:
            return series(hours, bucket, self._zone)
        try:
            converted = await self._converted(hours, currencies.pop())
        except MissingRate:
            return None
        return series(converted, bucket, self._zone)

    async def _converted(self, hours: Sequence[UsageTotals], currency: str) -> list[UsageTotals]:
        if all(_in_currency([row], currency) for row in hours):
            return list(hours)  # no rate read: every deployment billing in its prices' currency
        return in_currency(hours, Conversions(await self._book(), currency), self._zone)


def _in_currency(totals: Sequence[UsageTotals], currency: str) -> bool:
    return all(t.cost.currency == currency and t.charge.currency == currency for t in totals)


def _fixed_in(timeline: PlanTimeline, currency: str) -> bool:
    return all(
        amount is None or amount.currency == currency
        for amount in (v.plan.monthly_amount for v in timeline.versions)
    )


async def _chosen(uow: UnitOfWork, client_ids: Sequence[str] | None) -> Sequence[Client]:
    """The clients `client_ids` names (every client when None), in the store's order."""
    clients = await uow.clients.list()
    if client_ids is None:
        return clients
    wanted = set(client_ids)
    return [c for c in clients if c.id in wanted]
