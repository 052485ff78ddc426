"""Payments through Stripe on SQLite and PostgreSQL: the official library against the fake
Stripe API, signed events delivered (and redelivered) to the use case, the invoice, ledger,
credits, alerts and a fake wallet checked after each; `ledger verify` passes throughout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.payments.stripe_processor import StripeProcessor
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.alerting.alerts import AlertKind
from domain.billing.money import Money
from domain.billing.plans import PercentageMargin, PlanVersion
from domain.errors import ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import Invoice, InvoiceStatus
from domain.invoicing.ledger import EntryKind
from domain.payments.ports import ChargeOutcome
from domain.payments.processor import InvalidSignature, ProcessorUnavailable, ReturnUrls
from domain.payments.received import Movement
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.payments import Handled, PaymentTerms, PaymentUseCases
from domain.usecases.wallets import WalletUseCases
from domain.wallets.alerts import auto_top_up_failed
from domain.wallets.statement import EntryKind as WalletEntryKind
from domain.wallets.wallets import BillingMode
from tests.fakes import FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.test_invoices import APRIL_START, add_client, call
from tests.support.servers import serve_in_thread
from tests.upstreams.stripe_fake import StripeFake, sign

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
JSON = dict[str, Any]
URLS = ReturnUrls("https://billing.example/portal?paid=1", "https://billing.example/portal")


@pytest.fixture
def fake() -> StripeFake:
    return StripeFake()


@pytest.fixture
def stripe_base(fake: StripeFake) -> Iterator[str]:
    with serve_in_thread(fake.app) as url:
        yield url


@pytest.fixture
async def processor(fake: StripeFake, stripe_base: str) -> AsyncIterator[StripeProcessor]:
    found = StripeProcessor(fake.secret_key, fake.webhook_secret, stripe_base)
    yield found
    await found.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def wallets(uow: UowFactory, clock: FrozenClock) -> WalletUseCases:
    """The real wallets, as the container wires them as Stripe's WalletCredits."""
    return WalletUseCases(uow, clock)


async def balance(wallets: WalletUseCases, client_id: str) -> Money:
    return (await wallets.view(client_id)).balance.balance


@pytest.fixture
def payments(
    uow: UowFactory, clock: FrozenClock, processor: StripeProcessor, wallets: WalletUseCases
) -> PaymentUseCases:
    return PaymentUseCases(uow, clock, processor, PaymentTerms(URLS, "Agency"), wallets)


async def invoice_of(uow: UowFactory, total: str = "100") -> tuple[Invoice, InvoiceUseCases]:
    """A finalized April invoice of `total` USD (no tax)."""
    client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    await call(uow, client, key, APRIL_START + timedelta(days=2), total)
    invoices = InvoiceUseCases(uow, FrozenClock(datetime(2026, 5, 2, tzinfo=UTC)))
    (invoice,) = (await invoices.close_period("2026-04")).created
    return invoice, invoices


async def deliver(payments: PaymentUseCases, fake: StripeFake, event: JSON) -> Handled:
    payload, header = fake.signed(event)
    return await payments.handle(payload, header)


def fake_now(fake: StripeFake) -> datetime:
    return datetime.fromtimestamp(fake.now(), UTC)


def session_of(fake: StripeFake, url: str) -> str:
    return url.rsplit("/", 1)[-1]


async def test_an_invoice_paid_through_its_link_is_marked_paid_with_the_payment(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    assert await payments.link_for(invoice.id) == link  # the stored session is reused
    assert len(fake.sessions) == 1
    assert len(fake.customers) == 1
    session = fake.sessions[session_of(fake, link)]
    assert session["amount_total"] == 10000
    assert session["metadata"]["invoice_number"] == invoice.number

    completed, succeeded = fake.pay_checkout(session["id"])
    assert await deliver(payments, fake, completed) is Handled.APPLIED
    assert await deliver(payments, fake, completed) is Handled.DUPLICATE
    assert await deliver(payments, fake, succeeded) is Handled.APPLIED  # same payment: once

    paid = await invoices.get(invoice.id)
    assert paid.status is InvoiceStatus.PAID
    (received,) = await payments.payments_of(invoice.id)
    assert received.payment_ref == fake.sessions[session["id"]]["payment_intent"]
    assert received.amount == Money(Decimal("100"), "USD")
    assert received.applied == received.amount
    assert received.occurred_at.tzinfo is not None
    assert await payments.link_for(invoice.id) is None  # nothing left to pay
    assert await invoices.verify() == []


async def test_an_expired_link_is_replaced_by_a_new_session(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake, clock: FrozenClock
) -> None:
    invoice, _ = await invoice_of(uow)
    first = await payments.link_for(invoice.id)
    clock.advance(hours=24)
    second = await payments.link_for(invoice.id)
    assert second is not None
    assert second != first
    assert len(fake.sessions) == 2
    assert len(fake.customers) == 1  # the client's customer is created once


async def test_a_partial_payment_leaves_an_open_balance_then_the_rest_pays_it(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    for event in fake.pay_checkout(session_of(fake, link), amount=4000):
        await deliver(payments, fake, event)
    open_invoice = await invoices.get(invoice.id)
    assert open_invoice.status is InvoiceStatus.FINALIZED
    assert await payments.open_balance(open_invoice) == Money(Decimal("60"), "USD")
    assert await invoices.verify() == []

    rest = await payments.link_for(invoice.id)  # a new session, for what is open
    assert rest is not None
    assert rest != link
    assert fake.sessions[session_of(fake, rest)]["amount_total"] == 6000
    for event in fake.pay_checkout(session_of(fake, rest)):
        await deliver(payments, fake, event)
    assert (await invoices.get(invoice.id)).status is InvoiceStatus.PAID
    assert sorted(r.applied.amount for r in await payments.payments_of(invoice.id)) == [40, 60]
    assert await invoices.verify() == []


async def test_mark_paid_after_a_partial_payment_posts_only_the_rest(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    for event in fake.pay_checkout(session_of(fake, link), amount=2500):
        await deliver(payments, fake, event)
    await invoices.mark_paid(invoice.id)
    async with uow() as tx:
        entries = await tx.ledger.entries(invoice.client_id)
    payments_posted = sorted(e.amount.amount for e in entries if e.kind is EntryKind.PAYMENT)
    assert payments_posted == [Decimal(-75), Decimal(-25)]
    assert await invoices.verify() == []


async def test_an_over_payment_becomes_an_account_credit(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    for event in fake.pay_checkout(session_of(fake, link), amount=15050):
        await deliver(payments, fake, event)
    assert (await invoices.get(invoice.id)).status is InvoiceStatus.PAID
    (credit,) = await invoices.credits(invoice.client_id)
    assert credit.amount == Money(Decimal("50.50"), "USD")
    assert "over-payment" in credit.reason
    assert await invoices.verify() == []


async def test_a_payment_of_an_invoice_paid_meanwhile_is_all_credit(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    await invoices.mark_paid(invoice.id)  # paid by bank transfer, then through the link too
    for event in fake.pay_checkout(session_of(fake, link)):
        await deliver(payments, fake, event)
    (credit,) = await invoices.credits(invoice.client_id)
    assert credit.amount == Money(Decimal("100"), "USD")
    assert await invoices.verify() == []


async def test_a_portal_top_up_credits_the_wallet_once_for_three_deliveries(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake, wallets: WalletUseCases
) -> None:
    client, _ = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    url = await payments.start(client, Money(Decimal("25.00"), "USD"))
    session = fake.sessions[session_of(fake, url)]
    assert session["metadata"] == {"kind": "top_up", "client_id": client}
    assert session["_intent_data"]["setup_future_usage"] == "off_session"
    completed, succeeded = fake.pay_checkout(session["id"])
    outcomes = [await deliver(payments, fake, completed) for _ in range(3)]
    outcomes.append(await deliver(payments, fake, succeeded))
    assert outcomes == [Handled.APPLIED, Handled.DUPLICATE, Handled.DUPLICATE, Handled.APPLIED]
    (credit,) = (await wallets.statement(client)).entries
    assert (credit.kind, credit.amount, credit.source) == (
        WalletEntryKind.TOP_UP,
        Money(Decimal("25.00"), "USD"),
        "stripe",
    )
    assert credit.reference == fake.sessions[session["id"]]["payment_intent"]

    # The card was saved: an auto top-up charges it off-session, once per reference.
    charged = await payments.charge(client, Money(Decimal("10"), "USD"), "auto-1")
    again = await payments.charge(client, Money(Decimal("10"), "USD"), "auto-1")
    assert charged.outcome is ChargeOutcome.SUCCEEDED
    assert again.reference == charged.reference
    assert await balance(wallets, client) == Money(Decimal("35"), "USD")
    event = fake.event("payment_intent.succeeded", fake.intents[charged.reference or ""])
    await deliver(payments, fake, event)
    assert await balance(wallets, client) == Money(Decimal("35"), "USD")


async def test_a_top_up_in_another_currency_or_of_no_amount_is_refused(
    uow: UowFactory, payments: PaymentUseCases
) -> None:
    client, _ = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    with pytest.raises(ValidationError, match="currency"):
        await payments.start(client, Money(Decimal("25"), "EUR"))
    with pytest.raises(ValidationError, match="positive"):
        await payments.start(client, Money(Decimal("0"), "USD"))


async def test_a_declined_auto_top_up_is_a_failure_and_credits_nothing(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake, wallets: WalletUseCases
) -> None:
    client, _ = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    assert (await payments.charge(client, Money("5"), "r0")).outcome is (
        ChargeOutcome.NO_PAYMENT_METHOD
    )
    url = await payments.start(client, Money(Decimal("5"), "USD"))
    for event in fake.pay_checkout(session_of(fake, url)):
        await deliver(payments, fake, event)
    fake.decline_next = "insufficient_funds"
    result = await payments.charge(client, Money(Decimal("10"), "USD"), "auto-9")
    assert result.outcome is ChargeOutcome.FAILED
    assert await balance(wallets, client) == Money(Decimal("5"), "USD")
    # The wallet keeper alerts the declined charge; Stripe's payment_failed event of the same
    # charge is the same alert, not a second one (twice delivered, too).
    async with uow() as tx:
        found = await tx.clients.get(client)
        assert found is not None
        keeper = auto_top_up_failed(client, found.name, Money("10"), "declined", fake_now(fake))
        await tx.alerts.raise_once(keeper)
        await tx.commit()
    [failed] = fake.declined
    await deliver(payments, fake, failed)
    await deliver(payments, fake, failed)
    async with uow() as tx:
        kinds = [a.kind for a in await tx.alerts.recent(client_ids=[client])]
    assert kinds == [AlertKind.AUTO_TOP_UP_FAILED]


async def test_a_failed_payment_raises_an_alert(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, _ = await invoice_of(uow)
    link = await payments.link_for(invoice.id)
    assert link is not None
    failed = fake.fail_payment(session_of(fake, link), "Your card has insufficient funds.")
    await deliver(payments, fake, failed)
    await deliver(payments, fake, failed)
    async with uow() as tx:
        alerts = await tx.alerts.recent(client_ids=[invoice.client_id])
    (alert,) = alerts
    assert alert.kind is AlertKind.PAYMENT_FAILED
    assert "insufficient funds" in alert.message
    assert alert.details["invoice_id"] == invoice.id


async def test_a_refund_and_a_dispute_are_posted_and_alerted(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    for event in fake.pay_checkout(session_of(fake, link)):
        await deliver(payments, fake, event)
    intent = fake.sessions[session_of(fake, link)]["payment_intent"]
    first = fake.refund(intent, 3000)
    await deliver(payments, fake, first)
    await deliver(payments, fake, first)  # redelivered
    await deliver(payments, fake, fake.refund(intent, 1000))  # a second, partial refund
    await deliver(payments, fake, fake.dispute(intent))
    async with uow() as tx:
        entries = await tx.ledger.entries(invoice.client_id)
        alerts = await tx.alerts.recent(client_ids=[invoice.client_id])
    refunds = [e.amount.amount for e in entries if e.kind is EntryKind.REFUND]
    disputes = [e.amount.amount for e in entries if e.kind is EntryKind.DISPUTE]
    assert sorted(refunds) == [Decimal(10), Decimal(30)]
    assert disputes == [Decimal(100)]
    kinds = sorted(a.kind.value for a in alerts)
    assert kinds == ["payment_disputed", "payment_refunded", "payment_refunded"]
    moved = {r.movement for r in await payments.payments_of(invoice.id)}
    assert moved == {Movement.PAYMENT, Movement.REFUND}
    assert await invoices.verify() == []


async def test_a_bad_signature_is_refused_and_unknown_events_are_ignored(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    event = fake.event("invoice.created", {"id": "in_1"})
    payload, _ = fake.signed(event)
    with pytest.raises(InvalidSignature):
        await payments.handle(payload, sign(payload, "whsec_wrong"))
    tampered = json.dumps({**event, "type": "charge.refunded"}).encode()
    _, header = fake.signed(event)
    with pytest.raises(InvalidSignature):
        await payments.handle(tampered, header)
    assert await deliver(payments, fake, event) is Handled.IGNORED
    assert await deliver(payments, fake, event) is Handled.DUPLICATE


async def test_concurrent_deliveries_of_one_payment_record_it_once(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    """Stripe may deliver an event again while the first delivery is still being handled (and
    sends both events of one payment): all at once, the invoice is paid once."""
    invoice, invoices = await invoice_of(uow, "100")
    link = await payments.link_for(invoice.id)
    assert link is not None
    completed, succeeded = fake.pay_checkout(session_of(fake, link))
    signed = [fake.signed(e) for e in (completed, succeeded, completed, succeeded, completed)]
    await asyncio.gather(*(payments.handle(payload, header) for payload, header in signed))
    (received,) = await payments.payments_of(invoice.id)
    assert received.applied == Money(Decimal("100"), "USD")
    assert (await invoices.get(invoice.id)).status is InvoiceStatus.PAID
    assert await invoices.credits(invoice.client_id) == []
    assert await invoices.verify() == []


async def test_stripe_unreachable_leaves_documents_without_a_link(
    uow: UowFactory, clock: FrozenClock
) -> None:
    """The PaymentLinks port answers None (the email or PDF goes without a link); whoever
    asks for the link itself gets the processor's error."""
    invoice, _ = await invoice_of(uow)
    dead = StripeProcessor("sk_test_x", "whsec_x", "http://127.0.0.1:9")  # nothing listens
    payments = PaymentUseCases(uow, clock, dead, PaymentTerms(URLS))
    try:
        assert await payments.link_for(invoice.id) is None
        with pytest.raises(ProcessorUnavailable):
            await payments.pay_link(invoice.id)
    finally:
        await dead.close()


class RefundFailsOnce:
    """The real wallets, whose first refund_top_up fails (a crash after the refund's row
    committed, before the wallet was debited)."""

    def __init__(self, wallets: WalletUseCases) -> None:
        self.wallets = wallets
        self.failed = False

    async def credit_top_up(
        self, client_id: str, amount: Money, *, reference: str, source: str, note: str = ""
    ) -> bool:
        return await self.wallets.credit_top_up(
            client_id, amount, reference=reference, source=source, note=note
        )

    async def refund_top_up(
        self, client_id: str, amount: Money, *, reference: str, note: str = ""
    ) -> bool:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the database went away")
        return await self.wallets.refund_top_up(client_id, amount, reference=reference, note=note)


async def test_a_refunded_top_up_debits_the_wallet_once_even_after_a_crash(
    uow: UowFactory, clock: FrozenClock, processor: StripeProcessor, fake: StripeFake
) -> None:
    wallets = WalletUseCases(uow, clock)
    flaky = RefundFailsOnce(wallets)
    payments = PaymentUseCases(uow, clock, processor, PaymentTerms(URLS, "Agency"), flaky)
    client, _ = await add_client(uow, PercentageMargin(Decimal(0)), tax="0")
    url = await payments.start(client, Money(Decimal("25.00"), "USD"))
    for event in fake.pay_checkout(session_of(fake, url)):
        await deliver(payments, fake, event)
    intent = fake.sessions[session_of(fake, url)]["payment_intent"]
    refund = fake.refund(intent, 1000)

    with pytest.raises(ConnectionError):
        await deliver(payments, fake, refund)  # Stripe sees a 5xx and retries
    assert await balance(wallets, client) == Money(Decimal("25"), "USD")
    assert await deliver(payments, fake, refund) is Handled.APPLIED
    assert await deliver(payments, fake, refund) is Handled.DUPLICATE
    assert await balance(wallets, client) == Money(Decimal("15"), "USD")
    async with uow() as tx:
        ledger = await tx.ledger.entries(client)
        alerts = await tx.alerts.recent(client_ids=[client])
    assert ledger == []  # the top-up's refund is the wallet's, not owed on the books
    assert [a.kind for a in alerts] == [AlertKind.PAYMENT_REFUNDED]
    assert await wallets.verify() == []


async def test_a_kwd_balance_is_paid_in_steps_stripe_can_charge_the_rest_a_credit(
    uow: UowFactory, payments: PaymentUseCases, fake: StripeFake
) -> None:
    """Stripe charges three-decimal currencies in steps of ten fils: an invoice of 12.345 KWD
    gets a link for 12.350 (the strict fake refuses 12345 like Stripe), is paid in full, and
    the 0.005 over becomes the client's account credit; the books verify."""
    client = builders.client(currency="KWD", tax_rate=Decimal(0), created_at=APRIL_START)
    key = builders.key(client.id)
    plan = PlanVersion(new_id(), client.id, PercentageMargin(Decimal(0)), APRIL_START, APRIL_START)
    charge = Money(Decimal("12.345"), "KWD")
    record = builders.usage(
        client.id, key.id, started_at=APRIL_START + timedelta(days=2), charge=charge, cost=charge
    )
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.plans.add(plan)
        assert await tx.usage.add(record)
        await tx.ledger.append(
            builders.entry(client.id, "12.345", "KWD", reference=f"{record.request_id}#1")
        )
        await tx.commit()
    invoices = InvoiceUseCases(uow, FrozenClock(datetime(2026, 5, 2, tzinfo=UTC)))
    (invoice,) = (await invoices.close_period("2026-04")).created
    assert invoice.total == charge

    link = await payments.link_for(invoice.id)
    assert link is not None
    session = fake.sessions[session_of(fake, link)]
    assert (session["amount_total"], session["currency"]) == (12350, "kwd")
    for event in fake.pay_checkout(session["id"]):
        await deliver(payments, fake, event)

    assert (await invoices.get(invoice.id)).status is InvoiceStatus.PAID
    [credit] = await invoices.credits(client.id)
    assert credit.amount == Money(Decimal("0.005"), "KWD")
    assert await invoices.verify() == []


async def test_a_prepaid_clients_over_payment_goes_to_its_wallet_once(
    uow: UowFactory,
    payments: PaymentUseCases,
    fake: StripeFake,
    wallets: WalletUseCases,
) -> None:
    """An account credit would lower a prepaid client's next receipt, not what its wallet
    draws: the excess of an invoice payment is credited to the wallet instead, once, however
    often Stripe delivers the events."""
    invoice, invoices = await invoice_of(uow, "100")
    await wallets.set_mode(invoice.client_id, BillingMode.PREPAID, "ops")
    link = await payments.link_for(invoice.id)
    assert link is not None
    await invoices.mark_paid(invoice.id)  # paid by bank transfer, then through the link too
    before = await balance(wallets, invoice.client_id)

    for event in fake.pay_checkout(session_of(fake, link)):
        await deliver(payments, fake, event)
        await deliver(payments, fake, event)

    assert await invoices.credits(invoice.client_id) == []
    assert await balance(wallets, invoice.client_id) == before + Money(Decimal("100"), "USD")
    assert await invoices.verify() == []
    assert await wallets.verify() == []
