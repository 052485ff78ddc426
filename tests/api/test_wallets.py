"""Prepaid wallets through the running gateway, on SQLite and PostgreSQL: a client topped up
by an operator makes calls (the official openai SDK) until its balance cannot cover the next
one, then gets OpenAI's 429 `insufficient_quota`; 100 concurrent calls never take a balance
below zero; the statement sums to the balance and every wallet verifies. Over GraphQL: the
operator's mutations, the portal's read of its own wallet, and the typed refusal when no
payment processor is configured."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import openai
from openai.types.chat import ChatCompletionUserMessageParam
from sqlalchemy import event

from domain.alerting.alerts import AlertKind
from domain.metering.request_bounds import text_bound
from domain.usecases.wallets import WalletView
from domain.wallets.statement import EntryKind, balance_of
from domain.wallets.wallets import BillingMode
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.api.graphql_support import create_client, issue_key, staff
from tests.api.test_budgets import CHARGE, MODEL, fire

HI: ChatCompletionUserMessageParam = {"role": "user", "content": "hi"}


def calls_until_refused(client: openai.OpenAI) -> tuple[int, openai.RateLimitError]:
    """Calls made before the first refusal, and that refusal."""
    for made in range(100):
        try:
            client.chat.completions.create(model="openai/gpt-4o-mini", messages=[HI], max_tokens=10)
        except openai.RateLimitError as refused:
            return made, refused
    raise AssertionError("never refused")


async def prepaid(admin: Admin, top_up: str) -> tuple[str, str]:
    client_id, secret = await admin.client_with_key()
    wallets = admin.container.wallets()
    await wallets.set_mode(client_id, BillingMode.PREPAID, "test operator")
    assert await wallets.top_up(
        client_id, Decimal(top_up), f"bank-{client_id}", "first", "test operator"
    )
    return client_id, secret


async def settled_view(admin: Admin, client_id: str) -> WalletView:
    """The wallet once the gateway gave its idle lease back (nothing held any more)."""
    view = await admin.container.wallets().view(client_id)
    for _ in range(200):
        if view.balance.held.amount == 0:
            break
        await asyncio.sleep(0.05)
        view = await admin.container.wallets().view(client_id)
    return view


async def statement_agrees(admin: Admin, client_id: str, balance: Decimal) -> None:
    page = await admin.container.wallets().statement(client_id, 0, 200)
    assert page.total == len(page.entries)
    assert balance_of(page.entries) == balance
    assert await admin.container.wallets().verify() == []


async def test_calls_draw_down_the_wallet_until_it_cannot_cover_the_next(
    gateway: Gateway, admin: Admin, sdks: Sdks
) -> None:
    top_up = Decimal("0.0001")  # about 9 calls of 7.8e-6 while a hold of 3.8e-5 still fits
    client_id, secret = await prepaid(admin, str(top_up))
    client = sdks.openai(secret)

    made, refused = await asyncio.to_thread(calls_until_refused, client)

    assert refused.status_code == 429
    assert refused.code == "insufficient_quota"
    assert "prepaid balance" in refused.message
    assert 5 <= made <= 12
    view = await settled_view(admin, client_id)
    assert view.balance.balance.amount == top_up - made * CHARGE
    assert view.balance.balance.amount >= 0
    page = await admin.container.wallets().statement(client_id, 0, 200)
    assert [e.kind for e in page.entries].count(EntryKind.USAGE) == made
    await statement_agrees(admin, client_id, view.balance.balance.amount)
    async with admin.container.uow()() as uow:
        alerts = await uow.alerts.recent(client_ids=[client_id])
    assert [a.kind for a in alerts].count(AlertKind.WALLET_REFUSED) == 1

    # Topping up again lets calls through at once (the demo provider this time).
    await admin.container.wallets().top_up(client_id, Decimal("1"), None, "", "test operator")
    answer = await asyncio.to_thread(
        client.chat.completions.create,
        model="demo/chat",
        messages=[HI],
    )
    assert answer.choices[0].message.content


async def test_100_concurrent_calls_never_take_the_balance_below_zero(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    top_up = Decimal("0.0001")
    client_id, secret = await prepaid(admin, str(top_up))
    upstreams.openai.first_byte_delay = 0.05  # calls overlap

    responses = await fire(gateway, secret, 100)

    ok = [r for r in responses if r.status_code == 200]
    assert ok
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == 429
            assert response.json()["error"]["code"] == "insufficient_quota"
    view = await settled_view(admin, client_id)
    assert view.balance.held.amount == 0
    assert view.balance.balance.amount == top_up - len(ok) * CHARGE
    assert view.balance.balance.amount >= 0
    await statement_agrees(admin, client_id, view.balance.balance.amount)


async def test_a_postpaid_client_is_not_held_on_its_wallet(gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()  # postpaid, empty wallet
    [response] = await fire(gateway, secret, 1)
    assert response.status_code == 200
    await admin.container.wallets().set_mode(client_id, BillingMode.PREPAID, "test operator")
    [response] = await fire(gateway, secret, 1)
    assert response.status_code == 429  # prepaid with nothing in the wallet
    await admin.container.wallets().set_mode(client_id, BillingMode.POSTPAID, "test operator")
    [response] = await fire(gateway, secret, 1)
    assert response.status_code == 200


WALLET = """query($id: ID!) { wallet(clientId: $id) {
  mode currency balance { amount currency } held { amount } available { amount }
  paymentsConfigured settings { lowBalance autoTopUpBelow overdrawFixed }
  statement(limit: 10) { total entries { kind amount { amount } reference source note } }
} }"""

TOP_UP = """mutation($id: ID!, $amount: Decimal!, $ref: String) {
  topUpWallet(clientId: $id, amount: $amount, reference: $ref, note: "wire") {
    __typename
    ... on TopUpSuccess { credited wallet { balance { amount } } }
    ... on ValidationError { message code }
    ... on NotFoundError { message }
  } }"""


def test_operators_and_the_portal_over_graphql(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    viewer = staff(gateway, "VIEWER")
    client_id = create_client(admin, "Prepaid Co", {"percentageMargin": {"percent": "20"}})
    issue_key(admin, client_id)

    mode = admin.data(
        """mutation($id: ID!) { setBillingMode(clientId: $id, mode: PREPAID) {
             __typename ... on WalletSuccess { wallet { mode } } } }""",
        id=client_id,
    )["setBillingMode"]
    assert mode == {"__typename": "WalletSuccess", "wallet": {"mode": "PREPAID"}}
    first = admin.data(TOP_UP, id=client_id, amount="25.50", ref=f"wire-{client_id}")["topUpWallet"]
    again = admin.data(TOP_UP, id=client_id, amount="25.50", ref=f"wire-{client_id}")["topUpWallet"]
    assert (first["credited"], again["credited"]) == (True, False)
    assert Decimal(again["wallet"]["balance"]["amount"]) == Decimal("25.50")
    bad = admin.data(TOP_UP, id=client_id, amount="-1", ref=None)["topUpWallet"]
    assert bad["__typename"] == "ValidationError"
    adjusted = admin.data(
        """mutation($id: ID!) { adjustWallet(clientId: $id, amount: "-0.50", reason: "typo") {
             __typename ... on AdjustWalletSuccess { entry { kind source note }
             wallet { balance { amount } } } } }""",
        id=client_id,
    )["adjustWallet"]
    assert Decimal(adjusted["wallet"]["balance"]["amount"]) == 25
    assert adjusted["entry"]["kind"] == "ADJUSTMENT"
    assert adjusted["entry"]["note"] == "typo"
    refused = viewer.run(TOP_UP, id=client_id, amount="1", ref=None)
    assert refused["errors"]

    auto = admin.data(
        """mutation($id: ID!) { setWalletSettings(clientId: $id,
             input: {autoTopUpBelow: "5", autoTopUpAmount: "20"}) {
             __typename ... on ValidationError { code } } }""",
        id=client_id,
    )["setWalletSettings"]
    assert auto == {"__typename": "ValidationError", "code": "payments_not_configured"}

    portal_secret = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]["secret"]
    portal = admin.as_token(portal_secret)
    wallet = portal.data(WALLET, id=client_id)["wallet"]
    assert Decimal(wallet["balance"]["amount"]) == 25
    assert wallet["balance"]["currency"] == "USD"
    assert wallet["paymentsConfigured"] is False
    assert wallet["statement"]["total"] == 2
    assert sorted(e["kind"] for e in wallet["statement"]["entries"]) == ["ADJUSTMENT", "TOP_UP"]
    other = create_client(admin, "Other", {"percentageMargin": {"percent": "20"}})
    assert portal.data(WALLET, id=other)["wallet"] is None  # another client's: as unknown
    assert portal.run(TOP_UP, id=client_id, amount="1", ref=None)["errors"]
    start = portal.data(
        """mutation { startWalletTopUp(amount: "10") {
             __typename ... on ValidationError { code message } } }"""
    )["startWalletTopUp"]
    assert start["__typename"] == "ValidationError"
    assert start["code"] == "payments_not_configured"


def test_http_status_of_a_refused_prepaid_call(gateway: Gateway) -> None:
    """The Anthropic route answers in its own format (rate_limit_error body, 429)."""
    admin = staff(gateway, "ADMIN")
    client_id = create_client(admin, "Empty wallet", {"percentageMargin": {"percent": "20"}})
    secret = issue_key(admin, client_id)
    admin.data(
        """mutation($id: ID!) { setBillingMode(clientId: $id, mode: PREPAID) { __typename } }""",
        id=client_id,
    )
    response = httpx.post(
        gateway.url + "/v1/messages",
        headers={"x-api-key": secret, "anthropic-version": "2023-06-01"},
        json={"model": "demo/chat", "max_tokens": 10, "messages": [HI]},
        timeout=30,
    )
    assert response.status_code == 429
    assert response.json()["type"] == "error"


async def test_a_call_no_rule_bounds_is_refused_on_a_prepaid_wallet(
    gateway: Gateway, admin: Admin
) -> None:
    _, secret = await prepaid(admin, "100")
    body = {
        "model": "openai/gpt-4o-mini",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "f1"}}]}],
    }
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        response = await http.post(
            "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {secret}"}
        )
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "insufficient_quota"
    assert "a prepaid wallet is set" in error["message"]


async def test_postpaid_calls_touch_no_wallet_table(admin: Admin) -> None:
    """The hot path's cost for postpaid clients: prepaid wallets are read with the budgets, once
    per configuration revision, and nothing else."""
    client_id, secret = await admin.client_with_key()
    metering = admin.container.metering()
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    engine = admin.container.engine().sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for number in range(3):
            grant = await metering.authorize(
                await metering.authenticate(secret), MODEL, f"req_postpaid_{client_id}_{number}"
            )
            await metering.hold_and_journal(grant, text_bound(2, 10))
            await metering.settle(grant, [])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    wallet_reads = [s for s in statements if "wallet" in s]
    assert len(wallet_reads) <= 1  # the prepaid wallets, once per configuration revision
    assert all(s.lstrip().upper().startswith("SELECT") for s in wallet_reads)
