"""Payments through a processor (Stripe): pay links for invoices, wallet top-ups through a
hosted page, off-session charges; the processor's events are recorded by payment_events.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.billing.money import Money
from domain.errors import NotFound, ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import Invoice, InvoiceStatus
from domain.payments.minor_units import chargeable_units, payable
from domain.payments.ports import ChargeOutcome, ChargeResult, WalletCredits
from domain.payments.processor import (
    CheckoutRequest,
    PaymentProcessor,
    ProcessorUnavailable,
    ReturnUrls,
    StoredLink,
)
from domain.payments.received import Purpose, Received
from domain.ports import Clock, InvoicingUnitOfWorkFactory
from domain.usecases.payment_events import Handled, PaymentEvents

# A stored Checkout Session is reused until shortly before it expires (Stripe: 24 h).
LINK_MARGIN = timedelta(minutes=10)
MAX_TOP_UP_UNITS = 10**9  # a sanity bound on one top-up, in minor units


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    urls: ReturnUrls
    agency_name: str = "Bizgraph"


class PaymentUseCases:
    """Implements the PaymentLinks, TopUpCheckout and SavedPaymentMethods ports."""

    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        processor: PaymentProcessor,
        terms: PaymentTerms,
        wallets: WalletCredits | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._processor = processor
        self._terms = terms
        self._events = PaymentEvents(uow, clock, processor, wallets)

    async def close(self) -> None:
        await self._processor.close()

    # ------------------------------------------------------------------------ customers

    async def customer_for(self, client_id: str) -> str:
        """The client's Stripe customer, created on first need. The Idempotency-Key is the
        client's id, so two processes asking at once get one customer from Stripe, and the
        row (unique per client) keeps whichever committed first."""
        async with self._uow() as uow:
            known = await uow.payments.customer_of(client_id)
            client = await uow.clients.get(client_id)
        if known is not None:
            return known
        if client is None:
            raise NotFound(f"no client {client_id}")
        created = await self._processor.create_customer(
            client.id, client.name, client.billing_email, f"bizgraph-customer-{client.id}"
        )
        async with self._uow() as uow:
            await uow.payments.save_customer(client.id, created, self._clock.now())
            await uow.commit()
            return await uow.payments.customer_of(client.id) or created

    # ------------------------------------------------------------------------ pay links

    async def link_for(self, invoice_id: str) -> str | None:
        """PaymentLinks (emails, documents): the pay link, or None when there is nothing to
        pay or Stripe cannot be reached now (the email or PDF goes without it)."""
        try:
            return await self.pay_link(invoice_id)
        except ProcessorUnavailable:
            return None

    async def pay_link(self, invoice_id: str) -> str | None:
        """A Checkout Session for the invoice's open balance; None once nothing is open (paid,
        void). A stored session is reused until shortly before it expires. ProcessorUnavailable
        when Stripe refuses or cannot be reached (shown to whoever asked)."""
        now = self._clock.now()
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id)
            if invoice is None:
                raise NotFound(f"no invoice {invoice_id}")
            if invoice.status is not InvoiceStatus.FINALIZED:
                return None
            stored = await uow.payments.link(invoice.id)
            paid = await uow.payments.applied_to(invoice.id, invoice.currency)
        if stored is not None and stored.expires_at - LINK_MARGIN > now:
            return stored.url
        open_balance = invoice.total - paid
        if open_balance.amount <= 0:
            return None
        # what the processor can charge: 1.234 KWD is paid as 1.240, the rest an account credit
        to_pay = payable(open_balance)
        customer = await self.customer_for(invoice.client_id)
        # One key per generation of link: a retry reuses the session, an expired one is
        # replaced by a new one.
        generation = stored.session_ref if stored is not None else "first"
        page = await self._processor.create_checkout(
            CheckoutRequest(
                customer_ref=customer,
                amount=to_pay,
                description=f"Invoice {invoice.number} ({invoice.period.label})",
                purpose=Purpose.INVOICE,
                client_id=invoice.client_id,
                success_url=self._terms.urls.success,
                cancel_url=self._terms.urls.cancel,
                idempotency_key=f"bizgraph-invoice-{invoice.id}-{generation}",
                invoice_id=invoice.id,
                invoice_number=invoice.number,
            )
        )
        async with self._uow() as uow:
            await uow.payments.save_link(
                StoredLink(invoice.id, page.id, page.url, page.expires_at, now)
            )
            await uow.commit()
        return page.url

    async def open_balance(self, invoice: Invoice) -> Money:
        async with self._uow() as uow:
            paid = await uow.payments.applied_to(invoice.id, invoice.currency)
        if invoice.status is not InvoiceStatus.FINALIZED:
            return Money.zero(invoice.currency)
        return invoice.total - paid

    async def payments_of(self, invoice_id: str) -> list[Received]:
        async with self._uow() as uow:
            return list(await uow.payments.for_invoice(invoice_id))

    # ------------------------------------------------------------------------- top-ups

    async def start(self, client_id: str, amount: Money) -> str:
        """TopUpCheckout: a hosted page crediting `amount` to the wallet once paid; the card
        is saved for later off-session charges (auto top-up)."""
        async with self._uow() as uow:
            client = await uow.clients.get(client_id)
        if client is None:
            raise NotFound(f"no client {client_id}")
        if amount.currency != client.currency:
            raise ValidationError(f"top-ups are in the client's currency, {client.currency}")
        units = chargeable_units(amount)  # a step Stripe cannot charge: refused, named
        if units <= 0 or units > MAX_TOP_UP_UNITS:
            raise ValidationError("a top-up is a positive amount in whole minor units")
        customer = await self.customer_for(client.id)
        page = await self._processor.create_checkout(
            CheckoutRequest(
                customer_ref=customer,
                amount=amount,
                description=f"{self._terms.agency_name} prepaid balance top-up",
                purpose=Purpose.TOP_UP,
                client_id=client.id,
                success_url=self._terms.urls.success,
                cancel_url=self._terms.urls.cancel,
                idempotency_key=f"bizgraph-top-up-{new_id()}",
                save_payment_method=True,
            )
        )
        return page.url

    async def charge(self, client_id: str, amount: Money, reference: str) -> ChargeResult:
        """SavedPaymentMethods: an off-session PaymentIntent with the saved method; the
        wallet is credited by its payment_intent.succeeded event (or at once when it
        succeeded synchronously, idempotent on the payment id either way)."""
        async with self._uow() as uow:
            customer = await uow.payments.customer_of(client_id)
        if customer is None:
            return ChargeResult(ChargeOutcome.NO_PAYMENT_METHOD, None, "no Stripe customer yet")
        metadata = {"kind": Purpose.AUTO_TOP_UP.value, "client_id": client_id}
        result = await self._processor.charge_saved(customer, amount, reference, metadata)
        if result.outcome is ChargeOutcome.SUCCEEDED and result.reference is not None:
            await self._events.credit_wallet(
                client_id, amount, result.reference, Purpose.AUTO_TOP_UP
            )
        return result

    async def handle(self, payload: bytes, signature: str | None) -> Handled:
        """A webhook delivery (payment_events.py): InvalidSignature when it does not verify."""
        return await self._events.handle(payload, signature)
