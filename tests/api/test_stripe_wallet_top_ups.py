"""Wallet top-ups through Stripe end to end, with the real wallet as the container wires it,
on SQLite and PostgreSQL: a prepaid client's portal starts a top-up (`startWalletTopUp`, in
the wallet's currency), the fake Stripe completes the Checkout session and delivers its signed
events three times, and the wallet rises once by exactly the amount, with one statement entry
referencing the PaymentIntent; calls then draw it down and the books verify. A refund
(charge.refunded, delivered twice) debits the wallet once, never below zero; auto top-up
charges the card saved by that Checkout off-session, through the real Stripe adapter, and the
wallet is credited once although both the keeper and the payment_intent.succeeded event
credit it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from domain.alerting.alerts import AlertKind
from domain.billing.money import Money
from domain.wallets.wallets import WalletSettings
from tests.api.conftest import Upstreams
from tests.api.graphql_support import Gql, create_client, issue_key, owner, staff
from tests.api.stripe_support import (
    MODE,
    START,
    Paying,
    balance,
    paying_gateway,
    portal,
    session_of,
    wallet,
)
from tests.api.test_budgets import CHARGE, fire

pytestmark = pytest.mark.asyncio(loop_scope="session")
MARGIN = {"percentageMargin": {"percent": "30"}}  # gpt-4o-mini calls cost CHARGE each


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def paying(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams
) -> AsyncIterator[Paying]:
    directory = Path(tmp_path_factory.mktemp("top-ups"))
    async with paying_gateway(request.param, directory, upstreams) as p:
        yield p


def prepaid_client(paying: Paying, name: str) -> tuple[Gql, str]:
    """A prepaid client (switched over GraphQL) and its portal."""
    gql = owner(paying.gateway)
    client = create_client(gql, name, MARGIN)
    assert gql.data(MODE, id=client, mode="PREPAID")["setBillingMode"]["__typename"] == (
        "WalletSuccess"
    )
    return portal(gql, client), client


def top_up_through_checkout(paying: Paying, client_gql: Gql, amount: str) -> list[dict[str, Any]]:
    """The portal starts a top-up, the client pays on the (fake) Checkout page; the events."""
    started = client_gql.data(START, amount=amount)["startWalletTopUp"]
    assert started["__typename"] == "StartTopUpSuccess", started
    return paying.fake.pay_checkout(session_of(started["url"]))


def top_ups(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in found["statement"]["entries"] if e["kind"] == "TOP_UP"]


async def books_verify(paying: Paying) -> None:
    """`bizgraph ledger verify`: the invoice books and every wallet."""
    async with paying.operator() as operator:
        assert await operator.invoicing().verify() == []
        assert await operator.wallets().verify() == []


async def settled_balance(client_gql: Gql, client: str) -> Decimal:
    """The balance once the gateway gave its idle lease back (nothing held)."""
    for _ in range(200):
        found = wallet(client_gql, client)
        if Decimal(found["held"]["amount"]) == 0:
            return Decimal(found["balance"]["amount"])
        await asyncio.sleep(0.05)
    raise AssertionError("the wallet stayed held")


async def test_a_top_up_delivered_three_times_credits_the_wallet_once(paying: Paying) -> None:
    client_gql, client = prepaid_client(paying, "Tops up")
    completed, succeeded = top_up_through_checkout(paying, client_gql, "25.00")
    payment = succeeded["data"]["object"]["id"]
    for _ in range(3):
        for event in (completed, succeeded):
            answer = paying.fake.deliver(paying.hook, event)
            assert answer.status_code == 200, answer.text

    found = wallet(client_gql, client)
    assert found["mode"] == "PREPAID"
    assert (Decimal(found["balance"]["amount"]), found["balance"]["currency"]) == (25, "USD")
    assert [
        (Decimal(e["amount"]["amount"]), e["reference"], e["source"]) for e in top_ups(found)
    ] == [(Decimal(25), payment, "stripe")]
    assert found["statement"]["total"] == 1
    await books_verify(paying)

    # Calls draw it down: three gpt-4o-mini calls at CHARGE each.
    secret = issue_key(owner(paying.gateway), client)
    responses = await fire(paying.gateway, secret, 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert await settled_balance(client_gql, client) == Decimal(25) - 3 * CHARGE
    after = wallet(client_gql, client)
    assert [e["kind"] for e in after["statement"]["entries"]].count("USAGE") == 3
    await books_verify(paying)


async def test_who_may_start_a_top_up_and_of_what(paying: Paying) -> None:
    client_gql, client = prepaid_client(paying, "Careful payer")
    odd = client_gql.data(START, amount="0.001")["startWalletTopUp"]  # not whole cents
    assert odd["__typename"] == "ValidationError"
    other = create_client(owner(paying.gateway), "Someone else", MARGIN)
    hidden = client_gql.data(START, amount="5", id=other)["startWalletTopUp"]
    assert hidden["__typename"] == "NotFoundError"
    viewer = staff(paying.gateway, "VIEWER")
    assert viewer.data(START, amount="5", id=client)["startWalletTopUp"]["__typename"] == (
        "NotAllowedError"
    )
    staffed = owner(paying.gateway).data(START, amount="5", id=client)["startWalletTopUp"]
    assert staffed["__typename"] == "StartTopUpSuccess"
    session = paying.fake.sessions[session_of(staffed["url"])]
    assert (session["amount_total"], session["currency"]) == (500, "usd")  # the wallet's

    postpaid = portal(owner(paying.gateway), other)  # "Someone else" stayed postpaid
    refused = postpaid.data(START, amount="5")["startWalletTopUp"]
    assert refused["__typename"] == "ValidationError"
    assert refused["code"] == "wallet_postpaid"


async def test_a_refunded_top_up_leaves_the_wallet_once(paying: Paying) -> None:
    client_gql, client = prepaid_client(paying, "Changes its mind")
    for event in top_up_through_checkout(paying, client_gql, "25.00"):
        assert paying.fake.deliver(paying.hook, event).status_code == 200
    payment = paying.fake.sessions[
        next(s for s, v in paying.fake.sessions.items() if v["metadata"].get("client_id") == client)
    ]["payment_intent"]

    refund = paying.fake.refund(payment, 1000)
    for _ in range(2):
        assert paying.fake.deliver(paying.hook, refund).status_code == 200
    found = wallet(client_gql, client)
    assert Decimal(found["balance"]["amount"]) == 15
    refunds = [e for e in found["statement"]["entries"] if e["kind"] == "REFUND"]
    charge = refund["data"]["object"]["id"]
    assert [(Decimal(e["amount"]["amount"]), e["reference"]) for e in refunds] == [
        (Decimal(-10), f"refund:{charge}:1000")
    ]
    async with paying.operator() as operator, operator.uow()() as uow:
        ledger = await uow.ledger.entries(client)
        alerts = await uow.alerts.recent(client_ids=[client])
    assert ledger == []  # a top-up's refund is the wallet's, not owed on the invoice books
    assert [a.kind for a in alerts] == [AlertKind.PAYMENT_REFUNDED]
    await books_verify(paying)

    # The client spent most of the rest, then Stripe refunds all of it: the wallet gives
    # what it has (never below zero) and the part it cannot cover is alerted.
    adjusted = owner(paying.gateway).data(
        """mutation($id: ID!) { adjustWallet(clientId: $id, amount: "-12", reason: "spent") {
             __typename } }""",
        id=client,
    )["adjustWallet"]
    assert adjusted["__typename"] == "AdjustWalletSuccess"
    rest = paying.fake.refund(payment)
    for _ in range(2):
        assert paying.fake.deliver(paying.hook, rest).status_code == 200
    found = wallet(client_gql, client)
    assert Decimal(found["balance"]["amount"]) == 0
    refunds = [e for e in found["statement"]["entries"] if e["kind"] == "REFUND"]
    assert sorted(Decimal(e["amount"]["amount"]) for e in refunds) == [Decimal(-10), Decimal(-3)]
    async with paying.operator() as operator, operator.uow()() as uow:
        alerts = await uow.alerts.recent(client_ids=[client])
    shortfall = [a for a in alerts if a.kind is AlertKind.WALLET_SHORTFALL]
    assert len(shortfall) == 1
    assert Decimal(shortfall[0].details["uncovered"]) == 12
    await books_verify(paying)


async def test_auto_top_up_charges_the_saved_card_and_credits_once(paying: Paying) -> None:
    client_gql, client = prepaid_client(paying, "Auto payer")
    for event in top_up_through_checkout(paying, client_gql, "25.00"):  # saves the card
        assert paying.fake.deliver(paying.hook, event).status_code == 200
    customer = next(iter(c for c, v in paying.fake.customers.items()
                         if v["metadata"].get("client_id") == client))  # fmt: skip
    assert paying.fake.payment_methods[customer]

    async with paying.operator() as operator:
        wallets = operator.wallets()
        settings = WalletSettings(auto_top_up_below=Decimal(30), auto_top_up_amount=Decimal(20))
        view = await wallets.set_settings(client, settings)
        # The keeper with the real Stripe adapter (the container's), against the fake Stripe.
        await operator.wallet_keeper().tend_one(view.wallet)
        await operator.wallet_keeper().tend_one(view.wallet)  # claimed: at most one an hour

    charged = [
        i for i in paying.fake.intents.values()
        if i["metadata"].get("kind") == "auto_top_up" and i["metadata"].get("client_id") == client
    ]  # fmt: skip
    assert len(charged) == 1
    assert (charged[0]["amount"], charged[0]["status"]) == (2000, "succeeded")
    intent = charged[0]["id"]
    succeeded = paying.fake.succeeded_event(intent)  # Stripe sends the event as well
    for _ in range(3):
        assert paying.fake.deliver(paying.hook, succeeded).status_code == 200

    found = wallet(client_gql, client)
    assert Decimal(found["balance"]["amount"]) == 45
    assert sorted(
        (Decimal(e["amount"]["amount"]), e["reference"] == intent) for e in top_ups(found)
    ) == [
        (Decimal(20), True),
        (Decimal(25), False),
    ]
    await books_verify(paying)


async def test_the_event_first_then_the_keepers_credit_credits_once(paying: Paying) -> None:
    """An off-session charge whose event arrives before the keeper credits it (the keeper's
    answer was slow, say): the event credits, the keeper's credit of the same PaymentIntent
    is a no-op. Reference idempotency, whichever comes first."""
    client_gql, client = prepaid_client(paying, "Either order")
    for event in top_up_through_checkout(paying, client_gql, "10.00"):  # saves the card
        assert paying.fake.deliver(paying.hook, event).status_code == 200
    customer = next(c for c, v in paying.fake.customers.items()
                    if v["metadata"].get("client_id") == client)  # fmt: skip
    stripe = paying.gateway.settings.stripe
    assert stripe is not None
    method = paying.fake.payment_methods[customer][0]["id"]
    form = {
        "amount": "500", "currency": "usd", "customer": customer, "payment_method": method,
        "off_session": "true", "confirm": "true",
        "metadata[kind]": "auto_top_up", "metadata[client_id]": client,
    }  # fmt: skip
    charged = httpx.post(
        f"{stripe.api_base}/v1/payment_intents",
        data=form,
        headers={"authorization": f"Bearer {paying.fake.secret_key}"},
        timeout=10,
    )
    assert charged.status_code == 200, charged.text
    intent = charged.json()["id"]
    assert paying.fake.deliver(paying.hook, paying.fake.succeeded_event(intent)).status_code == 200
    assert balance(client_gql, client) == 15
    async with paying.operator() as operator:
        again = await operator.wallets().credit_top_up(
            client, Money(Decimal(5)), reference=intent, source="auto_top_up"
        )
    assert again is False
    assert balance(client_gql, client) == 15
    await books_verify(paying)
