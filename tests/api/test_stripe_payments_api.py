"""Stripe over HTTP: a gateway configured with Stripe (its API base the fake Stripe), the
portal asking for an invoice's pay link through GraphQL, the HTML invoice carrying the link,
and the fake Stripe delivering signed events to POST /webhooks/stripe (redelivered, tampered,
oversized). The wallets are the real ones, as the container wires them; wallet top-ups through
Stripe are tests/api/test_stripe_wallet_top_ups.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.api.conftest import Upstreams
from tests.api.graphql_support import Gql, create_client, owner
from tests.api.stripe_support import Paying, paying_gateway, portal
from tests.api.test_webhooks_and_alerts import create_webhook, valid, wait_for
from tests.support.servers import WebhookReceiver, serve_in_thread
from tests.upstreams.stripe_fake import sign

CLOSE = """
mutation($period: String!) { closePeriod(period: $period, early: true) {
  ... on ClosePeriodSuccess { invoices { id clientId status total { amount } } } } }"""
PAYMENT = """
query($id: ID!) { invoicePayment(invoiceId: $id) {
  payUrl openBalance { amount currency } payments { kind reference amount { amount } } } }"""
STATUS = "query($id: ID!) { invoice(id: $id) { status } }"
ALERTS = "query { alerts { kind clientId message } }"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def paying(
    tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams
) -> AsyncIterator[Paying]:
    async with paying_gateway("sqlite", Path(tmp_path_factory.mktemp("stripe")), upstreams) as p:
        yield p


def invoice_for(paying: Paying, name: str) -> tuple[Gql, str, str, str]:
    """A portal for a new client, its id, its invoice's id and total (the fee prorated)."""
    gql = owner(paying.gateway)
    client = create_client(gql, name, {"fixedFee": {"monthlyFee": "100"}})
    created = gql.data(CLOSE, period=datetime.now(UTC).strftime("%Y-%m"))["closePeriod"]
    (invoice,) = [i for i in created["invoices"] if i["clientId"] == client]
    return portal(gql, client), client, invoice["id"], invoice["total"]["amount"]


@pytest.mark.asyncio(loop_scope="session")
async def test_an_invoice_paid_through_its_link_over_http(paying: Paying) -> None:
    client_gql, _, invoice, total = invoice_for(paying, "Pays by link")
    payment = client_gql.data(PAYMENT, id=invoice)["invoicePayment"]
    url = payment["payUrl"]
    assert url.startswith("https://checkout.stripe.com/")
    assert payment["openBalance"] == {"amount": total, "currency": "USD"}
    html = httpx.get(
        f"{paying.gateway.url}/invoices/{invoice}.html",
        headers={"authorization": f"Bearer {client_gql.token}"},
        timeout=30,
    )
    assert url in html.text

    completed, succeeded = paying.fake.pay_checkout(url.rsplit("/", 1)[-1])
    first = paying.fake.deliver(paying.hook, completed)
    assert (first.status_code, first.json()["outcome"]) == (200, "applied")
    again = paying.fake.deliver(paying.hook, completed)
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert paying.fake.deliver(paying.hook, succeeded).status_code == 200

    assert client_gql.data(STATUS, id=invoice)["invoice"]["status"] == "PAID"
    paid = client_gql.data(PAYMENT, id=invoice)["invoicePayment"]
    assert paid["payUrl"] is None
    assert paid["payments"] == [
        {
            "kind": "payment",
            "reference": succeeded["data"]["object"]["id"],
            "amount": {"amount": total},
        }
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_failures_and_refunds_are_alerted(paying: Paying) -> None:
    receiver = WebhookReceiver()
    with serve_in_thread(receiver.app) as hook_base:
        created = create_webhook(owner(paying.gateway), hook_base + "/hook")
        assert created["__typename"] == "CreateWebhookSuccess"
        secret = created["secret"]
        client = await_failure_and_refund(paying)

        def signed_failure() -> bool:
            for sent in receiver.delivered():
                body = json.loads(sent.body)
                if body.get("type") == "payment_failed" and valid(
                    secret, sent.body, sent.signature
                ):
                    return True
            return False

        wait_for(signed_failure, "the payment_failed alert's signed webhook")
    alerts = owner(paying.gateway).data(ALERTS)["alerts"]
    kinds = sorted(a["kind"] for a in alerts if a["clientId"] == client)
    assert kinds == ["PAYMENT_FAILED", "PAYMENT_REFUNDED"]


def await_failure_and_refund(paying: Paying) -> str:
    client_gql, client, invoice, _ = invoice_for(paying, "Card trouble")
    url = client_gql.data(PAYMENT, id=invoice)["invoicePayment"]["payUrl"]
    session = url.rsplit("/", 1)[-1]
    assert paying.fake.deliver(paying.hook, paying.fake.fail_payment(session)).status_code == 200
    _, succeeded = paying.fake.pay_checkout(session)
    paying.fake.deliver(paying.hook, succeeded)
    refund = paying.fake.refund(succeeded["data"]["object"]["id"], 2500)
    assert paying.fake.deliver(paying.hook, refund).status_code == 200
    return client


@pytest.mark.asyncio(loop_scope="session")
async def test_bad_signatures_and_bodies_are_refused(paying: Paying) -> None:
    event = paying.fake.event("charge.refunded", {"id": "ch_x"})
    forged = paying.fake.deliver(paying.hook, event, secret="whsec_forged")
    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "invalid_signature"
    payload, header = paying.fake.signed(event)
    unsigned = httpx.post(paying.hook, content=payload, timeout=10)
    assert unsigned.status_code == 400
    huge = b"{" + b" " * (300 * 1024) + b"}"
    too_big = httpx.post(
        paying.hook, content=huge, headers={"stripe-signature": sign(huge, "x")}, timeout=10
    )
    assert too_big.status_code == 413
    ignored = paying.fake.deliver(paying.hook, paying.fake.event("customer.updated", {"id": "c"}))
    assert (ignored.status_code, ignored.json()["outcome"]) == (200, "ignored")
    assert header.startswith("t=")
