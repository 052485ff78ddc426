"""Accounting exports per billing period (docs/tax.md "Exports"): the invoices issued for the
period as sales journal entries, and the ledger entries of the period as journal entries.
Owners only (the exports carry every client's revenue)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.access.principals import NotAllowed, Principal
from domain.accounting.chart import ChartOfAccounts
from domain.accounting.journal import JournalLine, invoices_journal, ledger_journal, unbalanced
from domain.billing.periods import month_period
from domain.invoicing.ports import InvoiceFilter
from domain.ports import InvoicingUnitOfWorkFactory

JournalRenderer = Callable[[Sequence[JournalLine]], str]


class Journal(StrEnum):
    INVOICES = "invoices"
    LEDGER = "ledger"


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    text: str
    entries: int
    balanced: bool


class AccountingExports:
    def __init__(
        self,
        reads: InvoicingUnitOfWorkFactory,
        zone: ZoneInfo | None = None,
        chart: ChartOfAccounts | None = None,
        render: JournalRenderer | None = None,
    ) -> None:
        self._reads = reads
        self._zone = zone or ZoneInfo("UTC")
        self.chart = chart or ChartOfAccounts()
        self._render = render

    async def csv(self, journal: Journal, label: str) -> ExportFile:
        """The journal of the period as the CSV layout of docs/tax.md."""
        if self._render is None:
            raise NotAllowed("no journal renderer in this process")
        lines = await (self.invoices(label) if journal is Journal.INVOICES else self.ledger(label))
        return ExportFile(
            filename=f"bizgraph-{journal.value}-{label}.csv",
            text=self._render(lines),
            entries=len({line.entry for line in lines}),
            balanced=not unbalanced(lines),
        )

    async def invoices(self, label: str) -> list[JournalLine]:
        """The period's invoices (void ones with their reversal), in invoice number order."""
        period = month_period(label, self._zone)
        async with self._reads() as uow:
            names = {c.id: c.name for c in await uow.clients.list()}
            found = await uow.invoices.find(InvoiceFilter(period=period.label))
        local = [replace(i, period=period) for i in found]
        return invoices_journal(local, self.chart, names)

    async def ledger(self, label: str) -> list[JournalLine]:
        """Every ledger entry that occurred in the period (the agency's zone), oldest first."""
        period = month_period(label, self._zone)
        async with self._reads() as uow:
            clients = await uow.clients.list()
            names = {c.id: c.name for c in clients}
            entries = []
            for client in clients:
                mine = await uow.ledger.entries(client.id)
                entries += [e for e in mine if period.contains(e.occurred_at)]
            invoices = await uow.invoices.find(InvoiceFilter())
        return ledger_journal(entries, self.chart, invoices, names, period.start)


class AccountingDesk:
    def __init__(self, principal: Principal, exports: AccountingExports | None) -> None:
        self._principal = principal
        self._exports = exports

    def _use(self) -> AccountingExports:
        if not self._principal.can_manage_staff:
            raise NotAllowed("accounting exports are for owners only")
        if self._exports is None:
            raise NotAllowed("accounting exports are not available in this process")
        return self._exports

    async def invoices(self, label: str) -> list[JournalLine]:
        return await self._use().invoices(label)

    async def ledger(self, label: str) -> list[JournalLine]:
        return await self._use().ledger(label)

    async def csv(self, journal: Journal, label: str) -> ExportFile:
        return await self._use().csv(journal, label)
