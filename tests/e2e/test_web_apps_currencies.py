"""Currencies in the browser (docs/currencies.md), on a server of its own: a EUR client's USD
usage without a rate puts it apart on the overview, naming the missing rate (not a number),
while a USD client keeps its row and no total is added up without the EUR one; an owner sets
the rate on the Settings page (the API's message for a bad rate shown as it is); the overview
then shows its totals in the reporting currency, naming the EUR->USD rate it still lacks; a
client with usage cannot change its currency, and the page says why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect

from tests.api.conftest import ADMIN_TOKEN
from tests.api.graphql_support import create_client, issue_key
from tests.e2e.conftest import App, screenshot
from tests.e2e.test_web_apps import call, field, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_missing_rate_is_named_then_set_on_the_settings_page(
    empty_app: App, page: Page
) -> None:
    app = empty_app
    client_id = create_client(
        app.gql(), "Berlin GmbH", {"percentageMargin": {"percent": "10"}}, currency="EUR"
    )
    await call(app, issue_key(app.gql(), client_id), "openai/gpt-4o-mini", times=2)
    dollar_id = create_client(app.gql(), "Boston Inc", {"percentageMargin": {"percent": "0"}})
    await call(app, issue_key(app.gql(), dollar_id), "openai/gpt-4o-mini", times=1)
    await sign_in(page, app.url + "/", ADMIN_TOKEN)
    today = datetime.now(UTC).date().isoformat()
    await expect(page.get_by_test_id(f"unpriced-{client_id}")).to_have_text(
        f"Berlin GmbH: no USD→EUR rate in force on {today}: add one on the Settings page"
    )
    await expect(page.get_by_test_id(f"client-row-{dollar_id}")).to_contain_text("Boston Inc")
    await expect(page.get_by_test_id(f"client-row-{client_id}")).to_have_count(0)
    await expect(page.get_by_test_id("totals-note")).to_contain_text(
        "No totals while 1 client has no figures"
    )
    await expect(page.get_by_test_id("reporting-problem")).to_contain_text(
        "Berlin GmbH: no exchange rate USD->EUR"
    )
    await screenshot(page, "32-overview-unpriced-client")

    await page.get_by_role("link", name="Settings").click()
    panel = page.get_by_test_id("exchange-rates")
    await expect(panel).to_contain_text("No rates yet.")
    await field(panel, "Quote").fill("EUR")
    await field(panel, "Rate").fill("0")
    await field(panel, "Effective on").fill(today)
    await panel.get_by_role("button", name="Set rate").click()
    await expect(panel.get_by_text("an exchange rate is positive")).to_be_visible()
    await field(panel, "Rate").fill("0.92")
    await panel.get_by_role("button", name="Set rate").click()
    await expect(panel.get_by_test_id("exchange-rate-rows")).to_contain_text("0.92")
    await screenshot(page, "30-exchange-rates")

    await page.get_by_role("link", name="Overview").click()
    await expect(page.get_by_test_id(f"client-row-{client_id}")).to_contain_text("Berlin GmbH")
    await expect(page.get_by_test_id("unpriced-clients")).to_have_count(0)
    reporting = page.get_by_test_id("reporting-totals")
    await expect(reporting).to_contain_text("In the reporting currency (USD)")
    await expect(reporting.get_by_test_id("reporting-problem")).to_contain_text(
        "no exchange rate EUR->USD"
    )

    await page.goto(f"{app.url}/clients/{client_id}")
    currency = page.get_by_test_id("client-currency")
    await expect(currency).to_contain_text("Billing currency: EUR")
    await currency.get_by_label("Currency (ISO 4217)").fill("GBP")
    await currency.get_by_role("button", name="Change").click()
    await expect(currency).to_contain_text("its currency can no longer change")
