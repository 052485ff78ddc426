"""The processor's events (Stripe's webhooks), each recorded once.

Every effect of an event is idempotent on its own (a payment per payment id, a refund per
charge and refunded total, a wallet credit per payment id), and the event id is marked as
processed only after its effects committed: a crash in between means a redelivery applies
what is missing, never anything twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from domain.alerting.alerts import Alert, AlertKind
from domain.billing.money import Money
from domain.ids import new_id
from domain.invoicing.invoices import AccountCredit, Invoice, InvoiceStatus
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.payments.alerts import event_alert
from domain.payments.minor_units import to_minor_units
from domain.payments.ports import WalletCredits
from domain.payments.processor import EventKind, PaymentProcessor, ProcessorEvent
from domain.payments.received import Application, Movement, Purpose, Received, apply_payment
from domain.ports import Clock, InvoicingUnitOfWork, InvoicingUnitOfWorkFactory
from domain.wallets.alerts import auto_top_up_failed

_TOP_UPS = (Purpose.TOP_UP, Purpose.AUTO_TOP_UP)


class Handled(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event id was processed before: nothing done
    IGNORED = "ignored"  # a type Bizgraph does not act on


class PaymentEvents:
    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        processor: PaymentProcessor,
        wallets: WalletCredits | None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._processor = processor
        self._wallets = wallets

    async def handle(self, payload: bytes, signature: str | None) -> Handled:
        """A webhook delivery: InvalidSignature when it does not verify."""
        event = self._processor.parse_event(payload, signature)
        async with self._uow() as uow:
            if await uow.payments.event_seen(event.id):
                return Handled.DUPLICATE
        if event.kind is EventKind.OTHER:
            outcome = Handled.IGNORED
        else:
            await self._apply(event)
            outcome = Handled.APPLIED
        async with self._uow() as uow:
            await uow.payments.mark_event(event.id, event.type[:100], self._clock.now())
            await uow.commit()
        return outcome

    async def _apply(self, event: ProcessorEvent) -> None:
        kind = event.kind
        if kind is EventKind.CHECKOUT_COMPLETED and not event.paid:
            return  # a delayed method: its payment_intent.succeeded comes later
        if kind in (EventKind.CHECKOUT_COMPLETED, EventKind.PAYMENT_SUCCEEDED):
            await self._received(event)
        elif kind is EventKind.PAYMENT_FAILED:
            await self._failed(event)
        elif kind is EventKind.CHARGE_REFUNDED:
            await self._refunded(event)
        elif kind is EventKind.DISPUTE_CREATED:
            await self._disputed(event)

    async def _received(self, event: ProcessorEvent) -> None:
        if event.payment_ref is None or event.amount is None or event.purpose is None:
            return  # not a payment Bizgraph started (no metadata): nothing of ours
        if event.purpose is Purpose.INVOICE and event.invoice_id is not None:
            await self._invoice_paid(event, event.invoice_id, event.payment_ref, event.amount)
        elif event.client_id is not None:
            await self.credit_wallet(
                event.client_id, event.amount, event.payment_ref, event.purpose, event
            )

    async def _invoice_paid(
        self, event: ProcessorEvent, invoice_id: str, payment_ref: str, amount: Money
    ) -> None:
        now = self._clock.now()
        to_wallet: Money | None = None  # a prepaid client's excess, credited after the commit
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id, for_update=True)
            if invoice is None:
                await self._alert_unmatched(uow, event, f"invoice {invoice_id} is unknown")
                await uow.commit()
                return
            if amount.currency != invoice.currency:
                await self._alert_unmatched(
                    uow,
                    event,
                    f"paid in {amount.currency}, invoice {invoice.number} is in {invoice.currency}",
                )
                await uow.commit()
                return
            prepaid = await self._prepaid(uow, invoice.client_id)
            paid_before = await uow.payments.applied_to(invoice.id, invoice.currency)
            if invoice.status is InvoiceStatus.FINALIZED:
                application = apply_payment(invoice.total, paid_before, amount)
            else:  # paid by other means, or void: all of it becomes a credit
                application = apply_payment(paid_before, paid_before, amount)
            received = Received(
                new_id(),
                invoice.client_id,
                Movement.PAYMENT,
                Purpose.INVOICE,
                invoice.id,
                payment_ref,
                event.charge_ref,
                payment_ref,
                amount,
                application.applied,
                event.created_at,
                event.id,
            )
            if not await uow.payments.add(received):
                # recorded by an earlier event: a prepaid client's excess may still be owed to
                # its wallet (credited once, by reference), so a crash in between is repaired
                if prepaid:
                    to_wallet = await _recorded_excess(uow, payment_ref)
            else:
                await self._apply_payment(uow, invoice, event, payment_ref, application, now)
                if application.excess.amount > 0 and prepaid:
                    to_wallet = application.excess
                elif application.excess.amount > 0:
                    reason = f"over-payment of {invoice.number} through Stripe ({payment_ref})"
                    excess = application.excess
                    credit = AccountCredit(new_id(), invoice.client_id, excess, reason, now, excess)
                    await uow.invoices.grant_credit(credit)
            await uow.commit()
        if to_wallet is not None and to_wallet.amount > 0 and self._wallets is not None:
            # an account credit would lower the next receipt, not what the wallet draws
            await self._wallets.credit_top_up(
                invoice.client_id,
                to_wallet,
                reference=f"{payment_ref}:excess",
                source="stripe",
                note=f"over-payment of {invoice.number} through Stripe ({payment_ref})",
            )

    async def _prepaid(self, uow: InvoicingUnitOfWork, client_id: str) -> bool:
        wallet = await uow.wallets.get(client_id)
        return self._wallets is not None and wallet is not None and wallet.prepaid

    async def _apply_payment(
        self,
        uow: InvoicingUnitOfWork,
        invoice: Invoice,
        event: ProcessorEvent,
        payment_ref: str,
        application: Application,
        now: datetime,
    ) -> None:
        """The part applied to the invoice: its ledger entry, and paid once it covers it."""
        stored = await uow.payments.link(invoice.id)
        if stored is not None:  # that session is spent: the next link is a new one
            await uow.payments.save_link(replace(stored, expires_at=now))
        if application.applied.amount > 0:
            await uow.ledger.append(
                LedgerEntry(
                    new_id(),
                    invoice.client_id,
                    EntryKind.PAYMENT,
                    -application.applied,
                    event.created_at,
                    f"{invoice.id}:{payment_ref}",
                    f"{invoice.number}: paid through Stripe ({payment_ref})",
                )
            )
        if invoice.status is InvoiceStatus.FINALIZED and application.settles:
            await uow.invoices.change_status(invoice.id, InvoiceStatus.PAID, now)

    async def credit_wallet(
        self,
        client_id: str,
        amount: Money,
        payment_ref: str,
        purpose: Purpose,
        event: ProcessorEvent | None = None,
    ) -> None:
        async with self._uow() as uow:
            if await uow.clients.get(client_id) is None:
                return
            received = Received(
                new_id(),
                client_id,
                Movement.PAYMENT,
                purpose,
                None,
                payment_ref,
                event.charge_ref if event else None,
                payment_ref,
                amount,
                amount,
                event.created_at if event else self._clock.now(),
                event.id if event else "",
            )
            await uow.payments.add(received)  # idempotent: refunds find the client by it
            if self._wallets is None and event is not None:
                await self._alert_unmatched(uow, event, "a top-up was paid, wallets are off")
            await uow.commit()
        if self._wallets is not None:
            note = f"Stripe {purpose.value.replace('_', ' ')} {payment_ref}"
            await self._wallets.credit_top_up(
                client_id, amount, reference=payment_ref, source="stripe", note=note
            )

    async def _client_of(self, uow: InvoicingUnitOfWork, event: ProcessorEvent) -> str | None:
        if event.payment_ref is not None:
            for row in await uow.payments.by_payment(event.payment_ref):
                return row.client_id
        if event.client_id is not None and await uow.clients.get(event.client_id):
            return event.client_id
        if event.customer_ref is not None:
            return await uow.payments.client_of_customer(event.customer_ref)
        return None

    async def _failed(self, event: ProcessorEvent) -> None:
        async with self._uow() as uow:
            client_id = await self._client_of(uow, event)
            reason = event.message or "no reason given"
            client = await uow.clients.get(client_id) if client_id else None
            if event.purpose is Purpose.AUTO_TOP_UP and client is not None and event.amount:
                # the wallet keeper raises this very alert when the charge is declined: one
                # alert for the hour whichever comes first (docs/wallets.md)
                alert = auto_top_up_failed(
                    client.id, client.name, event.amount, reason, event.created_at
                )
            else:
                what = f"invoice {event.invoice_id}" if event.invoice_id else "a top-up"
                amount = f" of {event.amount}" if event.amount else ""
                message = f"Payment{amount} for {what} failed: {reason}"
                alert = self._alert(AlertKind.PAYMENT_FAILED, client_id, event, message)
            await uow.alerts.raise_once(alert)
            await uow.commit()

    async def _refunded(self, event: ProcessorEvent) -> None:
        """`amount` is the charge's refunded total: record what is new since the last one.

        A refunded invoice payment is owed again (a ledger `refund` entry). A refunded top-up
        leaves the wallet instead (`WalletCredits.refund_top_up`, once per refund): the ledger
        never held the top-up, so it does not hold its refund either. The wallet is debited
        after the refund's row committed and again on each redelivery (idempotent on the
        reference), so a crash in between is repaired by Stripe's retry."""
        if event.charge_ref is None or event.amount is None:
            return
        dedupe = f"{event.charge_ref}:{to_minor_units(event.amount)}"
        async with self._uow() as uow:
            client_id = await self._client_of(uow, event)
            if client_id is None:
                return
            payments = await uow.payments.by_payment(event.payment_ref or "")
            purpose = next((r.purpose for r in payments if r.movement is Movement.PAYMENT), None)
            to_wallet = self._wallets is not None and purpose in _TOP_UPS
            refunds = [
                r
                for r in payments
                if r.movement is Movement.REFUND and r.charge_ref == event.charge_ref
            ]
            recorded = next((r for r in refunds if r.dedupe == dedupe), None)
            if recorded is not None:
                new = recorded.amount  # this refund was recorded: only the wallet may be left
            else:
                before = Money.zero(event.amount.currency)
                for row in refunds:
                    before = before + row.amount
                new = event.amount - before
                if new.amount <= 0:
                    return
                await self._record_refund(uow, event, client_id, payments, dedupe, new, to_wallet)
            await uow.commit()
        if to_wallet and self._wallets is not None:
            await self._wallets.refund_top_up(
                client_id,
                new,
                reference=f"refund:{dedupe}",
                note=f"Stripe refund of {event.payment_ref or event.charge_ref}",
            )

    async def _record_refund(
        self,
        uow: InvoicingUnitOfWork,
        event: ProcessorEvent,
        client_id: str,
        payments: Sequence[Received],
        dedupe: str,
        new: Money,
        to_wallet: bool,
    ) -> None:
        invoice_id = next((r.invoice_id for r in payments if r.invoice_id), None)
        received = Received(
            new_id(),
            client_id,
            Movement.REFUND,
            None,
            invoice_id,
            event.payment_ref or "",
            event.charge_ref,
            dedupe,
            new,
            Money.zero(new.currency),
            event.created_at,
            event.id,
        )
        if not await uow.payments.add(received):
            return
        if not to_wallet:
            await uow.ledger.append(
                LedgerEntry(
                    new_id(),
                    client_id,
                    EntryKind.REFUND,
                    new,
                    event.created_at,
                    f"refund:{dedupe}",
                    f"refunded through Stripe ({event.charge_ref})",
                )
            )
        what = "a wallet top-up" if to_wallet else "a payment"
        message = f"{new} of {what} was refunded to the client (charge {event.charge_ref})"
        await uow.alerts.raise_once(
            self._alert(AlertKind.PAYMENT_REFUNDED, client_id, event, message)
        )

    async def _disputed(self, event: ProcessorEvent) -> None:
        if event.dispute_ref is None or event.amount is None:
            return
        async with self._uow() as uow:
            client_id = await self._client_of(uow, event)
            if client_id is None:
                return
            received = Received(
                new_id(),
                client_id,
                Movement.DISPUTE,
                None,
                None,
                event.payment_ref or "",
                event.charge_ref,
                event.dispute_ref,
                event.amount,
                Money.zero(event.amount.currency),
                event.created_at,
                event.id,
            )
            if await uow.payments.add(received):
                await uow.ledger.append(
                    LedgerEntry(
                        new_id(),
                        client_id,
                        EntryKind.DISPUTE,
                        event.amount,
                        event.created_at,
                        f"dispute:{event.dispute_ref}",
                        f"disputed through Stripe ({event.dispute_ref}): {event.message}"[:500],
                    )
                )
                message = (
                    f"The client disputed {event.amount} (charge {event.charge_ref}, reason: "
                    f"{event.message or 'not given'}); Stripe withheld the amount"
                )
                await uow.alerts.raise_once(
                    self._alert(AlertKind.PAYMENT_DISPUTED, client_id, event, message)
                )
            await uow.commit()

    def _alert(
        self, kind: AlertKind, client_id: str | None, event: ProcessorEvent, message: str
    ) -> Alert:
        return event_alert(kind, client_id, event, message, self._clock.now())

    async def _alert_unmatched(
        self, uow: InvoicingUnitOfWork, event: ProcessorEvent, why: str
    ) -> None:
        client_id = await self._client_of(uow, event)
        message = f"A Stripe payment of {event.amount} needs a look: {why}"
        await uow.alerts.raise_once(
            self._alert(AlertKind.PAYMENT_UNMATCHED, client_id, event, message)
        )


async def _recorded_excess(uow: InvoicingUnitOfWork, payment_ref: str) -> Money | None:
    """What an already recorded invoice payment paid beyond the invoice."""
    for row in await uow.payments.by_payment(payment_ref):
        if row.movement is Movement.PAYMENT and row.invoice_id is not None:
            return row.amount - row.applied
    return None
