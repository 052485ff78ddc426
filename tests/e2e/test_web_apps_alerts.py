"""Alerts and webhooks in the browser: alerts (seeded through the store, as the API tests do,
since nothing in the gateway raises them from a test yet) on the alerts page, the client page
and the portal (its client's only), acknowledged in the UI; a webhook created in the UI shows
its secret once, a bad URL's typed error shows in the form, and an alert's delivery to a local
receiver shows as delivered; a viewer changes nothing. Screenshots go to test-output/.

Named to run after test_web_apps.py, whose first test needs the server with no clients yet."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect

from api.container import close_container, make_container
from domain.alerting.alerts import Alert, AlertKind
from domain.ids import new_id
from tests.api.graphql_support import create_client
from tests.e2e.conftest import TABLET, App, screenshot
from tests.e2e.test_web_apps import field, portal_token, sign_in, staff_token
from tests.support.servers import WebhookReceiver, serve_in_thread

pytestmark = pytest.mark.asyncio(loop_scope="session")

MARGIN = {"percentageMargin": {"percent": "20"}}
ALERT = """query($id: ID!) { alerts(clientId: $id) { id acknowledgedBy acknowledgedAt } }"""
WEBHOOKS = """{ webhooks { id url clientId events
  deliveries { eventId status attempts lastStatusCode deliveredAt } } }"""


async def raise_alert(
    app: App, client_id: str, kind: AlertKind, message: str, minutes_ago: int = 0
) -> str:
    """Stores an alert the way the gateway's budget and spike code does (one unit of work)."""
    alert = Alert(
        id=new_id(),
        kind=kind,
        client_id=client_id,
        key_id=None,
        dedupe_key=f"e2e:{new_id()}",
        message=message,
        created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        details={"basis": "charge", "currency": "USD", "last_hour": "42.000000000000000001"},
    )
    container = make_container(app.settings)
    try:
        async with container.uow()() as uow:
            assert await uow.alerts.raise_once(alert)
            await uow.commit()
    finally:
        await close_container(container)
    return alert.id


async def eventually(condition: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    for _ in range(int(seconds * 10)):
        if found := condition():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def signed_by(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def test_alerts_show_on_every_page_and_are_acknowledged(app: App, page: Page) -> None:
    mine = create_client(app.gql(), "Alerting Co", MARGIN)
    other = create_client(app.gql(), "Quiet Neighbour", MARGIN)
    older = await raise_alert(
        app, mine, AlertKind.BUDGET_THRESHOLD, "Alerting Co used 80% of its budget", 30
    )
    newer = await raise_alert(
        app, mine, AlertKind.SPEND_SPIKE, "Alerting Co spent 42 USD in the last hour", 5
    )
    theirs = await raise_alert(
        app, other, AlertKind.HARD_LIMIT_REFUSED, "Quiet Neighbour hit its hard limit", 10
    )

    await sign_in(page, app.url + "/", staff_token(app, "Alma", "ADMIN"))
    await expect(page.get_by_test_id("open-alerts")).to_be_visible()  # the navigation's count
    await page.get_by_role("link", name=re.compile("^Alerts")).click()
    await expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()

    rows = page.get_by_test_id("alerts").locator("tbody tr")
    await expect(page.get_by_test_id(f"alert-row-{older}")).to_be_visible()
    ids = [await row.get_attribute("data-testid") for row in await rows.all()]
    mine_in_order = [
        i for i in ids if i in (f"alert-row-{newer}", f"alert-row-{theirs}", f"alert-row-{older}")
    ]
    assert mine_in_order == [f"alert-row-{newer}", f"alert-row-{theirs}", f"alert-row-{older}"]
    spike = page.get_by_test_id(f"alert-row-{newer}")
    await expect(spike).to_contain_text("Spend spike")
    await expect(spike.get_by_role("link", name="Alerting Co")).to_be_visible()
    await expect(spike).to_contain_text("last hour: $42.00")  # the decimal string, formatted
    await screenshot(page, "11-alerts")

    await spike.get_by_role("button", name=re.compile("^Acknowledge")).click()
    await expect(spike.locator("[data-col=acknowledged]")).to_contain_text("Alma")
    await expect(spike.get_by_role("button", name=re.compile("^Acknowledge"))).to_have_count(0)
    (stored,) = [a for a in app.gql().data(ALERT, id=mine)["alerts"] if a["id"] == newer]
    assert stored["acknowledgedBy"] == "Alma"
    assert stored["acknowledgedAt"] is not None

    await page.get_by_text("Unacknowledged", exact=True).click()
    await expect(page.get_by_test_id(f"alert-row-{older}")).to_be_visible()
    await expect(page.get_by_test_id(f"alert-row-{newer}")).to_have_count(0)

    # The client page lists its own alerts only, and acknowledges in place.
    await page.get_by_test_id(f"alert-row-{older}").get_by_role("link", name="Alerting Co").click()
    await expect(page.get_by_test_id("client-name")).to_have_text("Alerting Co")
    panel = page.get_by_test_id("client-alerts")
    await expect(panel.locator("tbody tr")).to_have_count(2)
    await expect(panel).not_to_contain_text("Quiet Neighbour")
    await expect(page.get_by_text("1 unacknowledged")).to_be_visible()
    await (
        panel.get_by_test_id(f"alert-row-{older}")
        .get_by_role("button", name=re.compile("^Acknowledge"))
        .click()
    )
    await expect(panel.get_by_test_id(f"alert-row-{older}")).to_contain_text("Alma")
    await expect(page.get_by_text("1 unacknowledged")).to_have_count(0)
    await screenshot(page, "12-client-alerts")

    # The portal sees its client's alerts, read-only, and nobody else's.
    await sign_in(page, app.url + "/portal", portal_token(app, mine))
    alerts = page.get_by_test_id("portal-alerts")
    await expect(alerts).to_contain_text("Alerting Co spent 42 USD in the last hour")
    await expect(alerts).to_contain_text("Alerting Co used 80% of its budget")
    await expect(alerts.locator("tbody tr")).to_have_count(2)
    body = await page.locator("body").inner_text()
    assert "Quiet Neighbour" not in body
    assert "Alma" not in body
    await expect(page.get_by_role("button", name=re.compile("^Acknowledge"))).to_have_count(0)
    await screenshot(page, "13-portal-alerts")


async def test_a_webhook_made_in_the_ui_gets_an_alert_delivered(app: App, page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    hook = WebhookReceiver()
    client_id = create_client(app.gql(), "Hooked Co", MARGIN)
    with serve_in_thread(hook.app) as receiver:
        url = receiver + "/hook"
        await sign_in(page, app.url + "/", staff_token(app, "Wes", "ADMIN"))
        await page.get_by_role("link", name="Webhooks", exact=True).click()
        await expect(page.get_by_role("heading", name="Add a webhook")).to_be_visible()

        # The API's typed error, shown in the form.
        await field(page, "URL").fill("ftp://hooks.example.com/bizgraph")
        await page.get_by_role("button", name="Add webhook").click()
        await expect(page.get_by_role("alert")).to_contain_text("must start with http://")

        await field(page, "URL").fill(url)
        await page.get_by_role("textbox", name="Client", exact=True).click()
        await page.keyboard.type("Hooked")
        await page.get_by_role("option", name="Hooked Co").click()
        await page.get_by_label("Spend spike").check()
        await page.get_by_role("button", name="Add webhook").click()
        secret = (await page.get_by_test_id("secret").inner_text()).strip()
        assert secret.startswith("whsec_")
        await expect(page.get_by_role("button", name="Copy")).to_be_visible()
        await expect(page.get_by_role("dialog")).to_contain_text("X-Bizgraph-Signature")
        await screenshot(page, "14-webhook-secret")
        await page.get_by_role("button", name="Done").click()
        await expect(page.get_by_test_id("secret")).to_have_count(0)  # shown once, gone

        (made,) = [w for w in app.gql().data(WEBHOOKS)["webhooks"] if w["url"] == url]
        assert (made["clientId"], made["events"]) == (client_id, ["SPEND_SPIKE"])
        card = page.get_by_test_id(f"webhook-{made['id']}")
        await expect(card).to_contain_text("Hooked Co")
        await expect(card).to_contain_text("Spend spike")
        await expect(card).to_contain_text("No deliveries yet")

        await raise_alert(app, client_id, AlertKind.BUDGET_THRESHOLD, "Hooked Co: not subscribed")
        spike = await raise_alert(app, client_id, AlertKind.SPEND_SPIKE, "Hooked Co spent 42 USD")
        (got,) = await eventually(hook.delivered, "the alert at the receiver")
        assert got.event_id == spike
        assert signed_by(secret, got.body, got.signature)

        def recorded() -> bool:
            (shown,) = [w for w in app.gql().data(WEBHOOKS)["webhooks"] if w["id"] == made["id"]]
            return [d["status"] for d in shown["deliveries"]] == ["DELIVERED"]

        await eventually(recorded, "the delivery recorded")
        await page.get_by_role("button", name="Refresh deliveries").click()
        delivery = card.get_by_test_id(f"delivery-{spike}")
        await expect(delivery).to_contain_text("delivered")
        await expect(delivery).to_contain_text("status 200")
        await expect(card.get_by_test_id("deliveries").locator("tbody tr")).to_have_count(1)
        await screenshot(page, "15-webhooks")

        await card.get_by_role("button", name=f"Disable the webhook to {url}").click()
        await expect(card).to_have_count(0)  # the list shows webhooks in use
        assert made["id"] not in [w["id"] for w in app.gql().data(WEBHOOKS)["webhooks"]]


async def test_a_viewer_reads_alerts_and_webhooks_without_changing_them(
    app: App, page: Page
) -> None:
    client_id = create_client(app.gql(), "Watched Co", MARGIN)
    alert_id = await raise_alert(app, client_id, AlertKind.SPEND_SPIKE, "Watched Co spiked")
    created = app.gql().data(
        """mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
             ... on CreateWebhookSuccess { webhook { id } } } }""",
        input={"url": "https://hooks.example.com/watched", "clientId": client_id},
    )["createWebhook"]
    try:
        await page.set_viewport_size(TABLET)
        await sign_in(page, app.url + "/alerts", staff_token(app, "Val", "VIEWER"))
        row = page.get_by_test_id(f"alert-row-{alert_id}")
        await expect(row).to_contain_text("Watched Co spiked")
        await expect(row).to_contain_text("open")
        await expect(page.get_by_role("button", name=re.compile("^Acknowledge"))).to_have_count(0)

        await screenshot(page, "16-alerts-viewer-tablet")

        await page.get_by_role("button", name="Menu").click()  # tablets: navigation behind a menu
        await page.get_by_role("link", name="Webhooks", exact=True).click()
        card = page.get_by_test_id(f"webhook-{created['webhook']['id']}")
        await expect(card).to_contain_text("https://hooks.example.com/watched")
        await expect(card).to_contain_text("every alert kind")
        for action in ("Add webhook", re.compile("^Disable")):
            await expect(page.get_by_role("button", name=action)).to_have_count(0)
        await screenshot(page, "17-webhooks-viewer-tablet")
    finally:
        app.gql().data(
            "mutation($id: ID!) { deleteWebhook(id: $id) { __typename } }",
            id=created["webhook"]["id"],
        )
