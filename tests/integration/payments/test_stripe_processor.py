"""The Stripe adapter, through the official `stripe` library, against the strict fake Stripe
API served over loopback: what it sends is what Stripe accepts, and the fake is held to
Stripe's behaviour (form bodies, Idempotency-Key, error shapes, signatures)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
import stripe

from adapters.payments.stripe_processor import FormHttpxClient, StripeProcessor, stripe_client
from domain.billing.money import Money
from domain.errors import ValidationError
from domain.payments.ports import ChargeOutcome
from domain.payments.processor import CheckoutRequest, EventKind, InvalidSignature
from domain.payments.received import Purpose
from tests.support.servers import serve_in_thread
from tests.upstreams.stripe_fake import StripeFake, decode_form, sign


@pytest.fixture
def fake() -> StripeFake:
    return StripeFake()


@pytest.fixture
def base(fake: StripeFake) -> Iterator[str]:
    with serve_in_thread(fake.app) as url:
        yield url


@pytest.fixture
async def stripe_(fake: StripeFake, base: str) -> AsyncIterator[StripeProcessor]:
    processor = StripeProcessor(fake.secret_key, fake.webhook_secret, base)
    yield processor
    await processor.close()


def checkout(customer: str, amount: Money, key: str, *, save: bool = False) -> CheckoutRequest:
    return CheckoutRequest(
        customer_ref=customer,
        amount=amount,
        description="Invoice INV-2026-000001",
        purpose=Purpose.TOP_UP if save else Purpose.INVOICE,
        client_id="client-1",
        success_url="https://billing.example/portal?paid=1",
        cancel_url="https://billing.example/portal",
        idempotency_key=key,
        invoice_id=None if save else "inv-1",
        invoice_number=None if save else "INV-2026-000001",
        save_payment_method=save,
    )


def test_bracket_notation_decodes_like_stripe() -> None:
    decoded = decode_form(
        [
            ("line_items[0][price_data][unit_amount]", "1234"),
            ("line_items[0][quantity]", "1"),
            ("metadata[kind]", "top_up"),
        ]
    )
    assert decoded == {
        "line_items": [{"price_data": {"unit_amount": "1234"}, "quantity": "1"}],
        "metadata": {"kind": "top_up"},
    }


async def test_customer_creation_is_idempotent_on_its_key(
    fake: StripeFake, stripe_: StripeProcessor
) -> None:
    first = await stripe_.create_customer("client-1", "Acme", "ap@acme.test", "cust-client-1")
    again = await stripe_.create_customer("client-1", "Acme", "ap@acme.test", "cust-client-1")
    assert first == again
    assert first.startswith("cus_")
    assert len(fake.customers) == 1
    assert fake.requests[0].params["metadata"] == {"client_id": "client-1"}
    assert fake.requests[0].idempotency_key == "cust-client-1"


@pytest.mark.parametrize(
    ("currency", "amount", "units"),
    [
        ("JPY", "1500", "1500"),
        ("USD", "12.34", "1234"),
        ("KWD", "1.230", "1230"),  # three decimals, in steps of ten fils
        ("ISK", "5", "500"),  # Stripe counts ISK in hundredths, whole krónur only
    ],
)
async def test_checkout_session_for_an_amount_in_minor_units(
    fake: StripeFake, stripe_: StripeProcessor, currency: str, amount: str, units: str
) -> None:
    customer = await stripe_.create_customer("client-1", "Acme", None, "c1")
    page = await stripe_.create_checkout(checkout(customer, Money(Decimal(amount), currency), "k"))
    assert page.url.startswith("https://checkout.stripe.com/")
    assert abs(page.expires_at.timestamp() - (time.time() + 24 * 3600)) < 60
    sent = fake.requests[-1].params
    assert sent["mode"] == "payment"
    assert sent["line_items"][0]["price_data"]["unit_amount"] == units
    assert sent["line_items"][0]["price_data"]["currency"] == currency.lower()
    assert sent["metadata"] == {
        "kind": "invoice",
        "client_id": "client-1",
        "invoice_id": "inv-1",
        "invoice_number": "INV-2026-000001",
    }
    assert "setup_future_usage" not in sent["payment_intent_data"]


async def test_off_session_charge_uses_the_saved_method_once_per_reference(
    fake: StripeFake, stripe_: StripeProcessor
) -> None:
    customer = await stripe_.create_customer("client-1", "Acme", None, "c1")
    twenty = Money(Decimal("20.00"), "USD")
    none_yet = await stripe_.charge_saved(customer, twenty, "auto-1", {"kind": "auto_top_up"})
    assert none_yet.outcome is ChargeOutcome.NO_PAYMENT_METHOD
    page = await stripe_.create_checkout(checkout(customer, twenty, "k", save=True))
    assert fake.requests[-1].params["payment_intent_data"]["setup_future_usage"] == "off_session"
    fake.pay_checkout(page.id)
    first = await stripe_.charge_saved(customer, twenty, "auto-2", {"kind": "auto_top_up"})
    again = await stripe_.charge_saved(customer, twenty, "auto-2", {"kind": "auto_top_up"})
    assert first.outcome is ChargeOutcome.SUCCEEDED
    assert first.reference == again.reference
    assert len([i for i in fake.intents.values() if i["metadata"]]) == 2  # checkout + one


async def test_a_declined_off_session_charge_fails_with_stripes_message(
    fake: StripeFake, stripe_: StripeProcessor
) -> None:
    customer = await stripe_.create_customer("client-1", "Acme", None, "c1")
    page = await stripe_.create_checkout(
        checkout(customer, Money(Decimal("5"), "USD"), "k", save=True)
    )
    fake.pay_checkout(page.id)
    fake.decline_next = "insufficient_funds"
    result = await stripe_.charge_saved(customer, Money(Decimal("5"), "USD"), "auto-3", {})
    assert result.outcome is ChargeOutcome.FAILED
    assert (result.reference or "").startswith("pi_")
    assert "declined" in (result.message or "")


async def test_the_fake_answers_stripes_error_shapes(fake: StripeFake, base: str) -> None:
    http = FormHttpxClient()
    client = stripe_client(fake.secret_key, base, http)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        await client.v1.customers.create_async({"nickname": "x"})  # type: ignore[typeddict-unknown-key]  # an unknown parameter on purpose
    assert unknown.value.code == "parameter_unknown"
    await client.v1.customers.create_async({"name": "A"}, {"idempotency_key": "same"})
    with pytest.raises(stripe.IdempotencyError):
        await client.v1.customers.create_async({"name": "B"}, {"idempotency_key": "same"})
    wrong = stripe_client("sk_test_wrong", base, http)
    with pytest.raises(stripe.AuthenticationError):
        await wrong.v1.customers.create_async({"name": "A"})
    await http.close_async()


async def test_signed_events_verify_with_the_library_and_read_exactly(
    fake: StripeFake, stripe_: StripeProcessor
) -> None:
    intent = {
        "id": "pi_1", "object": "payment_intent", "amount": 1234, "amount_received": 1234,
        "currency": "kwd", "customer": "cus_1", "latest_charge": "ch_1",
        "metadata": {"kind": "invoice", "client_id": "c", "invoice_id": "inv"},
    }  # fmt: skip
    payload, header = fake.signed(fake.event("payment_intent.succeeded", intent))
    stripe.WebhookSignature.verify_header(payload.decode(), header, fake.webhook_secret)
    event = stripe_.parse_event(payload, header)
    assert event.kind is EventKind.PAYMENT_SUCCEEDED
    assert event.amount == Money(Decimal("1.234"), "KWD")
    assert (event.payment_ref, event.invoice_id, event.purpose) == ("pi_1", "inv", Purpose.INVOICE)
    with pytest.raises(InvalidSignature):
        stripe_.parse_event(payload, sign(payload, "whsec_other"))
    with pytest.raises(InvalidSignature):
        stripe_.parse_event(payload, None)
    old = sign(payload, fake.webhook_secret, int(time.time()) - 3600)
    with pytest.raises(InvalidSignature):  # outside the library's 5-minute tolerance
        stripe_.parse_event(payload, old)
    unknown = fake.event("customer.created", {"id": "cus_1"})
    payload, header = fake.signed(unknown)
    assert stripe_.parse_event(payload, header).kind is EventKind.OTHER
    garbage = json.dumps({"id": "evt", "type": "charge.refunded", "data": {"object": {
        "id": "ch", "amount_refunded": 10**15, "currency": "usd"}}}).encode()  # fmt: skip
    with pytest.raises(ValidationError):
        stripe_.parse_event(garbage, sign(garbage, fake.webhook_secret))
