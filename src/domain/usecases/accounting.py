"""Accounting exports per billing period (docs/tax.md "Exports"): the invoices issued for the
period as sales journal entries, and the ledger entries of the period as journal entries.
Owners only (the exports carry every client's revenue)."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from domain.access.principals import NotAllowed, Principal
from domain.accounting.chart import ChartOfAccounts
from domain.accounting.journal import JournalLine, invoices_journal, ledger_journal
from domain.billing.periods import month_period
from domain.invoicing.ports import InvoiceFilter
from domain.ports import InvoicingUnitOfWorkFactory


class AccountingExports:
    def __init__(
        self,
        reads: InvoicingUnitOfWorkFactory,
        zone: ZoneInfo | None = None,
        chart: ChartOfAccounts | None = None,
    ) -> None:
        self._reads = reads
        self._zone = zone or ZoneInfo("UTC")
        self.chart = chart or ChartOfAccounts()

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
