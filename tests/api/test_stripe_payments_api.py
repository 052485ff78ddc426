"""Stripe over HTTP: a gateway configured with Stripe (its API base the fake Stripe), the
portal asking for an invoice's pay link and a top-up page through GraphQL, the HTML invoice
carrying the link, and the fake Stripe delivering signed events to POST /webhooks/stripe
(redelivered, tampered, oversized). The wallet is a fake WalletCredits wired by overriding the
container's provider, as the integrator wires the real one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from dependency_injector import providers

from api.app import create_app
from api.container import make_container
from api.container.payments import build_payments
from api.payment_settings import StripeSettings
from api.settings import Environment, Settings
from api.settings_sections import WebhookSettings
from domain.billing.money import Money
from tests.api.conftest import ADMIN_TOKEN, Gateway, _seed
from tests.api.graphql_support import Gql, create_client, owner
from tests.api.test_webhooks_and_alerts import create_webhook, valid, wait_for
from tests.fakes.wallet_credits import FakeWalletCredits
from tests.support.databases import sqlite_database
from tests.support.servers import WebhookReceiver, serve_in_thread
from tests.upstreams.stripe_fake import StripeFake, sign

PORTAL = """
mutation($id: ID!) { createPortalToken(clientId: $id) {
  ... on CreatePortalTokenSuccess { secret } } }"""
CLOSE = """
mutation($period: String!) { closePeriod(period: $period, early: true) {
  ... on ClosePeriodSuccess { invoices { id clientId status total { amount } } } } }"""
PAYMENT = """
query($id: ID!) { invoicePayment(invoiceId: $id) {
  payUrl openBalance { amount currency } payments { kind reference amount { amount } } } }"""
STATUS = "query($id: ID!) { invoice(id: $id) { status } }"
TOP_UP = """
mutation($id: ID!, $amount: Decimal!, $currency: String!) {
  startTopUp(clientId: $id, amount: $amount, currency: $currency) {
    __typename
    ... on TopUpPage { url }
    ... on ValidationError { message code }
    ... on NotFoundError { message }
    ... on NotAllowedError { message }
  } }"""
ALERTS = "query { alerts { kind clientId message } }"


@dataclass
class Paying:
    gateway: Gateway
    fake: StripeFake
    wallets: FakeWalletCredits

    @property
    def hook(self) -> str:
        return self.gateway.url + "/webhooks/stripe"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def paying(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Paying]:
    fake, wallets = StripeFake(), FakeWalletCredits()
    with serve_in_thread(fake.app) as stripe_base:
        async with sqlite_database(Path(tmp_path_factory.mktemp("stripe"))) as url:
            settings = Settings(
                database_url=url,
                secret_key="test-server-secret-" + "y" * 32,
                admin_token=ADMIN_TOKEN,
                env=Environment.DEVELOPMENT,
                allow_private_urls=True,  # the webhook receiver listens on loopback
                webhooks=WebhookSettings(
                    timeout_seconds=1, max_attempts=5, retry_base_seconds=0.2, poll_seconds=0.1
                ),
                stripe=StripeSettings(
                    fake.secret_key, fake.webhook_secret, "https://billing.example", stripe_base
                ),
            )
            await _seed(settings)
            container = make_container(settings)
            # How the integrator wires the wallets' WalletCredits (here a fake).
            container.payments.override(
                providers.Singleton(
                    build_payments, settings, container.uow, container.clock, wallets
                )
            )
            app = create_app(settings, container)
            with serve_in_thread(app) as base:
                yield Paying(Gateway(base, settings, "sqlite", container), fake, wallets)


def portal(gql: Gql, client_id: str) -> Gql:
    return gql.as_token(gql.data(PORTAL, id=client_id)["createPortalToken"]["secret"])


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
async def test_a_portal_top_up_credits_the_wallet_once(paying: Paying) -> None:
    client_gql, client, _, _ = invoice_for(paying, "Tops up")
    started = client_gql.data(TOP_UP, id=client, amount="25.00", currency="USD")["startTopUp"]
    assert started["__typename"] == "TopUpPage"
    events = paying.fake.pay_checkout(started["url"].rsplit("/", 1)[-1])
    for _ in range(3):
        for event in events:
            assert paying.fake.deliver(paying.hook, event).status_code == 200
    assert paying.wallets.balance(client, "USD") == Money("25.00")
    wrong = client_gql.data(TOP_UP, id=client, amount="0.001", currency="USD")["startTopUp"]
    assert wrong["__typename"] == "ValidationError"
    other = create_client(owner(paying.gateway), "Someone else", {"fixedFee": {"monthlyFee": "1"}})
    hidden = client_gql.data(TOP_UP, id=other, amount="5", currency="USD")["startTopUp"]
    assert hidden["__typename"] == "NotFoundError"


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
