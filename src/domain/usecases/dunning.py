"""Dunning (docs/delivery.md): overdue invoices listed, alerted once, reminded by email at the
configured days after due, and, when the agency turned it on, their client suspended N days
after due, warned (alert and email) a few days before.

`run` is what the hourly job of `bizgraph serve` and `bizgraph dunning run` do; one short
transaction per invoice, every step kept once by a dedupe key (alerts, outbox rows), so it
is safe from several processes and after restarts. Paying an overdue invoice stops its
reminders (a queued one is cancelled) but reinstates nobody: an operator reactivates a
suspended client, and the same invoice never suspends it again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from domain.alerting.alerts import Alert, AlertKind
from domain.billing.clients import ClientStatus
from domain.delivery.dunning import (
    DunningPolicy,
    days_overdue,
    is_overdue,
    reminder_due,
    suspension_date,
    suspension_due,
    warning_due,
)
from domain.delivery.outbox import MailKind
from domain.ids import new_id
from domain.invoicing.invoices import Invoice, InvoiceStatus
from domain.invoicing.ports import InvoiceFilter
from domain.ports import Clock, InvoicingUnitOfWork, InvoicingUnitOfWorkFactory
from domain.usecases.invoice_mail import InvoiceMailing


@dataclass(frozen=True, slots=True)
class OverdueInvoice:
    invoice: Invoice
    days_overdue: int


@dataclass(slots=True)
class DunningReport:
    overdue: int = 0
    alerts: int = 0  # alerts raised by this run (overdue, warnings, suspensions)
    reminders: int = 0  # reminder and warning emails queued
    suspended: list[str] = field(default_factory=list)  # client ids suspended by this run


class Dunning:
    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        mailing: InvoiceMailing,
        policy: DunningPolicy | None = None,
        reads: InvoicingUnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._mailing = mailing
        self.policy = policy or DunningPolicy()

    async def overdue(self, client_ids: Sequence[str] | None = None) -> list[OverdueInvoice]:
        """Finalized invoices past their due date, the most overdue first."""
        now = self._clock.now()
        async with self._reads() as uow:
            found = await uow.invoices.find(
                InvoiceFilter(client_ids, None, InvoiceStatus.FINALIZED)
            )
        late = [OverdueInvoice(i, days_overdue(i, now)) for i in found if is_overdue(i, now)]
        return sorted(late, key=lambda o: (o.invoice.due_at, o.invoice.number))

    async def run(self) -> DunningReport:
        report = DunningReport()
        for item in await self.overdue():
            report.overdue += 1
            async with self._uow() as uow:
                invoice = await uow.invoices.get(item.invoice.id)
                if invoice is None or not is_overdue(invoice, self._clock.now()):
                    continue  # paid or voided meanwhile
                await self._step(uow, invoice, report)
                await uow.commit()
        return report

    async def _step(
        self, uow: InvoicingUnitOfWork, invoice: Invoice, report: DunningReport
    ) -> None:
        now = self._clock.now()
        late = days_overdue(invoice, now)
        total = f"{invoice.total.amount} {invoice.total.currency}"
        details = {
            "invoice_id": invoice.id,
            "invoice_number": invoice.number,
            "amount": str(invoice.total.amount),
            "currency": invoice.total.currency,
            "due_at": invoice.due_at.isoformat(),
        }

        async def alert(kind: AlertKind, message: str, extra: dict[str, str]) -> bool:
            raised = await uow.alerts.raise_once(
                Alert(
                    id=new_id(),
                    kind=kind,
                    client_id=invoice.client_id,
                    key_id=None,
                    dedupe_key=f"{kind.value}:{invoice.id}",
                    message=message,
                    created_at=now,
                    details={**details, **extra},
                )
            )
            report.alerts += raised
            return raised

        await alert(
            AlertKind.INVOICE_OVERDUE,
            f"Invoice {invoice.number} ({total}) is past its due date.",
            {},
        )
        day = reminder_due(self.policy, late)
        if day is not None and self._mailing.enabled:
            key = f"reminder:{invoice.id}:{day}"
            queued = await self._mailing.queue(
                uow, invoice, MailKind.REMINDER, key, days_overdue=late
            )
            report.reminders += queued is not None
        suspend_on = suspension_date(invoice, self.policy) or ""
        warned_now = False
        if warning_due(self.policy, late) or suspension_due(self.policy, late):
            warned_now = await alert(
                AlertKind.SUSPENSION_WARNING,
                f"Invoice {invoice.number} is unpaid: API access will be suspended on "
                f"{suspend_on}.",
                {"suspend_on": suspend_on},
            )
            if self._mailing.enabled:
                key = f"suspension_warning:{invoice.id}"
                kind = MailKind.SUSPENSION_WARNING
                queued = await self._mailing.queue(uow, invoice, kind, key, days_overdue=late)
                report.reminders += queued is not None
        # Never suspended in the run that first warns: the warning always comes first.
        if suspension_due(self.policy, late) and not warned_now:
            await self._suspend(uow, invoice, alert, report, late)

    async def _suspend(
        self,
        uow: InvoicingUnitOfWork,
        invoice: Invoice,
        alert: _Raise,
        report: DunningReport,
        late: int,
    ) -> None:
        message = f"Suspended: invoice {invoice.number} is {late} days overdue."
        if not await alert(AlertKind.CLIENT_SUSPENDED, message, {"days_overdue": str(late)}):
            return  # this invoice suspended the client once already (maybe reinstated since)
        client = await uow.clients.get(invoice.client_id)
        if client is not None and client.status is ClientStatus.ACTIVE:
            await uow.clients.update(client.with_status(ClientStatus.SUSPENDED))
            report.suspended.append(client.id)


class _Raise(Protocol):
    async def __call__(self, kind: AlertKind, message: str, extra: dict[str, str]) -> bool: ...
