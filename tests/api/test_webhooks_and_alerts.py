"""Alerts and webhooks through the running gateway (SQLite and PostgreSQL): a receiver that
fails the first attempts gets each alert with a valid signature and the same event id on
every retry, the delivery status shows in GraphQL, roles and portal isolation hold, bad URLs
are typed errors, and a hanging receiver does not slow model calls."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.alerting.alerts import Alert, AlertKind
from domain.ids import new_id
from tests.api.conftest import Admin, Gateway, Sdks
from tests.api.graphql_support import Gql, create_client, issue_key, owner, staff
from tests.support.servers import WebhookReceiver, serve_in_thread

CREATE_WEBHOOK = """
mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    __typename
    ... on CreateWebhookSuccess { secret webhook { id url clientId events createdAt } }
    ... on ValidationError { message code }
    ... on NotFoundError { message code }
  }
}"""

WEBHOOKS = """
query($clientId: ID) {
  webhooks(clientId: $clientId) {
    id url clientId events disabledAt
    deliveries { eventId status attempts lastStatusCode lastError nextAttemptAt deliveredAt }
  }
}"""

ALERTS = """
query($clientId: ID, $unacknowledgedOnly: Boolean! = false) {
  alerts(clientId: $clientId, unacknowledgedOnly: $unacknowledgedOnly) {
    id kind clientId message details { name value } acknowledgedAt acknowledgedBy dispatchedAt
  }
}"""

DELETE_WEBHOOK = """
mutation($id: ID!) { deleteWebhook(id: $id) {
  __typename ... on DeleteWebhookSuccess { webhook { id disabledAt } } } }"""

MARGIN = {"percentageMargin": {"percent": "10"}}


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver(fail_first=2)
    with serve_in_thread(hook.app) as url:
        yield hook, url + "/hook"


async def raise_alert(admin: Admin, client_id: str, kind: AlertKind = AlertKind.SPEND_SPIKE) -> str:
    alert = Alert(
        id=new_id(),
        kind=kind,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"test:{new_id()}",
        message="Test client spent 42 USD in the last hour",
        created_at=datetime.now(UTC),
        details={"basis": "charge", "last_hour": "42.000000000000000001"},
    )
    async with admin.container.uow()() as uow:
        assert await uow.alerts.raise_once(alert)
        await uow.commit()
    return alert.id


def create_webhook(gql: Gql, url: str, **extra: Any) -> dict[str, Any]:
    created: dict[str, Any] = gql.data(CREATE_WEBHOOK, input={"url": url, **extra})["createWebhook"]
    return created


def wait_for(condition: Any, what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def valid(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def test_a_failing_receiver_gets_each_alert_signed_with_one_event_id_and_status_shows(
    gateway: Gateway, admin: Admin, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    gql = staff(gateway, "ADMIN")
    client_id = create_client(gql, "Webhook client", MARGIN)
    created = create_webhook(gql, url, clientId=client_id)
    assert created["__typename"] == "CreateWebhookSuccess", created
    secret, webhook = created["secret"], created["webhook"]
    assert secret.startswith("whsec_")
    assert webhook["clientId"] == client_id
    assert webhook["events"] == [
        "BUDGET_THRESHOLD",
        "HARD_LIMIT_REFUSED",
        "SPEND_SPIKE",
        "INVOICE_OVERDUE",
        "SUSPENSION_WARNING",
        "CLIENT_SUSPENDED",
        "PAYMENT_FAILED",
        "PAYMENT_REFUNDED",
        "PAYMENT_DISPUTED",
        "PAYMENT_UNMATCHED",
        "WALLET_REFUSED",
        "WALLET_LOW_BALANCE",
        "WALLET_SHORTFALL",
        "AUTO_TOP_UP_FAILED",
    ]

    first = await raise_alert(admin, client_id)
    second = await raise_alert(admin, client_id, AlertKind.BUDGET_THRESHOLD)
    wait_for(lambda: len(hook.delivered()) == 2, "both alerts delivered")

    got = hook.requests()
    for event_id in (first, second):
        attempts = [r for r in got if r.event_id == event_id]
        assert [r.answered for r in attempts] == [503, 503, 200]
        assert len({r.body for r in attempts}) == 1
        assert all(valid(secret, r.body, r.signature) for r in attempts)

    def delivered() -> list[dict[str, Any]] | None:
        (shown,) = gql.data(WEBHOOKS, clientId=client_id)["webhooks"]
        rows: list[dict[str, Any]] = shown["deliveries"]
        return rows if all(d["status"] == "DELIVERED" for d in rows) else None

    rows = wait_for(delivered, "the status recorded")
    assert {d["eventId"] for d in rows} == {first, second}
    for row in rows:
        assert (row["attempts"], row["lastStatusCode"], row["nextAttemptAt"]) == (3, 200, None)
        assert row["deliveredAt"] is not None

    alerts = gql.data(ALERTS, clientId=client_id)["alerts"]
    assert [a["id"] for a in alerts] == [second, first]
    assert all(a["dispatchedAt"] is not None for a in alerts)
    acknowledged = gql.data(
        """mutation($id: ID!) { acknowledgeAlert(id: $id) {
             __typename ... on AcknowledgeAlertSuccess { alert { acknowledgedBy } } } }""",
        id=first,
    )["acknowledgeAlert"]
    assert acknowledged["alert"]["acknowledgedBy"] == "test ADMIN"
    pending = gql.data(ALERTS, clientId=client_id, unacknowledgedOnly=True)["alerts"]
    assert [a["id"] for a in pending] == [second]
    nested = gql.data(
        "query($id: ID!) { client(id: $id) { alerts(first: 1) { id kind } } }", id=client_id
    )
    assert nested["client"]["alerts"] == [{"id": second, "kind": "BUDGET_THRESHOLD"}]


async def test_an_agency_webhook_gets_every_clients_alerts_of_its_kinds(
    gateway: Gateway, admin: Admin, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.fail_first = 0
    gql = owner(gateway)
    created = create_webhook(gql, url, events=["HARD_LIMIT_REFUSED"])
    webhook_id = created["webhook"]["id"]
    try:
        assert created["webhook"]["clientId"] is None
        a = create_client(gql, "Agency A", MARGIN)
        b = create_client(gql, "Agency B", MARGIN)
        wanted = {
            await raise_alert(admin, a, AlertKind.HARD_LIMIT_REFUSED),
            await raise_alert(admin, b, AlertKind.HARD_LIMIT_REFUSED),
        }
        await raise_alert(admin, a, AlertKind.SPEND_SPIKE)  # not subscribed
        wait_for(lambda: {r.event_id for r in hook.delivered()} == wanted, "both clients' alerts")
    finally:
        deleted = gql.data(DELETE_WEBHOOK, id=webhook_id)["deleteWebhook"]
    assert deleted["webhook"]["disabledAt"] is not None
    assert webhook_id not in [w["id"] for w in gql.data(WEBHOOKS)["webhooks"]]


def test_bad_webhook_input_is_a_typed_error(gateway: Gateway) -> None:
    gql = owner(gateway)
    for url in (
        "ftp://hooks.example.com/x",
        "not a url",
        "https://u:p@hooks.example.com/x",
        "http://0177.0.0.1/x",  # accepted before, then failed at every delivery
        "http://0x7f000001/x",
        "http://2130706433/x",
        "http://127.1/x",
    ):
        refused = create_webhook(gql, url)
        assert refused["__typename"] == "ValidationError", url
        assert refused["code"] == "validation_error"
    idna = create_webhook(gql, "https://B\u00fccher.example/x")["webhook"]
    assert idna["url"] == "https://xn--bcher-kva.example/x"
    # Full-width letters are stored as what they spell (this test gateway allows private URLs).
    full_width = "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/x"
    assert create_webhook(gql, full_width)["webhook"]["url"] == "http://localhost/x"
    unknown = create_webhook(gql, "https://hooks.example.com/x", clientId="no-such-client")
    assert unknown["__typename"] == "NotFoundError"
    missing = gql.data(DELETE_WEBHOOK, id="no-such-webhook")["deleteWebhook"]
    assert missing["__typename"] == "NotFoundError"
    answer = gql.run("{ alerts(first: 0) { id } }")
    assert answer["errors"][0]["extensions"]["code"] == "validation_error"


async def test_roles_and_portal_isolation_for_alerts_and_webhooks(
    gateway: Gateway, admin: Admin
) -> None:
    gql = staff(gateway, "ADMIN")
    viewer = staff(gateway, "VIEWER")
    a = create_client(gql, "Alerts A", MARGIN)
    b = create_client(gql, "Alerts B", MARGIN)
    mine, theirs = await raise_alert(admin, a), await raise_alert(admin, b)
    hook = create_webhook(gql, "https://hooks.example.com/b", clientId=b)["webhook"]
    portal_secret = gql.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=a,
    )["createPortalToken"]["secret"]
    portal = gql.as_token(portal_secret)

    acknowledge = """mutation($id: ID!) { acknowledgeAlert(id: $id) {
        ... on AcknowledgeAlertSuccess { alert { acknowledgedBy } } } }"""
    assert gql.data(acknowledge, id=mine)["acknowledgeAlert"]["alert"]["acknowledgedBy"]
    shown = {x["id"]: x for x in portal.data(ALERTS)["alerts"]}
    assert mine in shown
    assert theirs not in shown
    # When it was handled, never by whom: no staff names reach a portal.
    assert shown[mine]["acknowledgedAt"] is not None
    assert shown[mine]["acknowledgedBy"] is None
    assert portal.data(ALERTS, clientId=b)["alerts"] == []
    assert portal.data("query($id: ID!) { client(id: $id) { alerts { id } } }", id=b) == {
        "client": None
    }
    for document, variables in (
        (WEBHOOKS, {}),
        (CREATE_WEBHOOK, {"input": {"url": "https://hooks.example.com/p"}}),
        (DELETE_WEBHOOK, {"id": hook["id"]}),
        ("mutation($id: ID!) { acknowledgeAlert(id: $id) { __typename } }", {"id": mine}),
    ):
        answer = portal.run(document, **variables)
        assert answer["errors"][0]["message"].startswith("not allowed"), document
        assert hook["url"] not in str(answer)

    assert theirs in [x["id"] for x in viewer.data(ALERTS)["alerts"]]
    assert hook["id"] in [w["id"] for w in viewer.data(WEBHOOKS, clientId=b)["webhooks"]]
    for document, variables in (
        (CREATE_WEBHOOK, {"input": {"url": "https://hooks.example.com/v"}}),
        (DELETE_WEBHOOK, {"id": hook["id"]}),
    ):
        assert viewer.run(document, **variables)["errors"][0]["message"].startswith("not allowed")
    assert gql.data(DELETE_WEBHOOK, id=hook["id"])["deleteWebhook"]["webhook"]["disabledAt"]


async def test_a_hanging_or_unreachable_receiver_does_not_slow_model_calls(
    gateway: Gateway, admin: Admin, sdks: Sdks
) -> None:
    hanging = WebhookReceiver(hang_seconds=5)
    gql = owner(gateway)
    client_id = create_client(gql, "Hanging receiver", MARGIN)
    key = issue_key(gql, client_id)
    with serve_in_thread(hanging.app) as url:
        slow = create_webhook(gql, url + "/hook", clientId=client_id)["webhook"]["id"]
        dead = create_webhook(gql, "http://127.0.0.1:9/hook", clientId=client_id)["webhook"]["id"]
        for _ in range(5):
            await raise_alert(admin, client_id)
        wait_for(lambda: hanging.arrived >= 1, "a request hanging at the receiver")

        started = time.monotonic()
        openai = sdks.openai(key)
        for _ in range(10):
            answer = openai.chat.completions.create(
                model="demo/chat", messages=[{"role": "user", "content": "still fast?"}]
            )
            assert answer.choices[0].message.content
        assert time.monotonic() - started < 15  # generous: no call waited on a receiver

        def timed_out() -> list[dict[str, Any]] | None:
            hooks = {w["id"]: w for w in gql.data(WEBHOOKS, clientId=client_id)["webhooks"]}
            errors = [d["lastError"] for d in hooks[slow]["deliveries"]]
            unreachable = [d["lastError"] for d in hooks[dead]["deliveries"]]
            done = "timed out" in errors and unreachable and all(unreachable)
            return hooks[slow]["deliveries"] if done else None

        wait_for(timed_out, "the timeouts recorded", 30)
        for webhook_id in (slow, dead):
            gql.data(DELETE_WEBHOOK, id=webhook_id)
