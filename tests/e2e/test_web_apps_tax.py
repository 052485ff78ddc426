"""Tax and billing details in the browser (docs/tax.md): an owner enters a client's billing
details (the API's message for a malformed tax id shown as it is), sets reverse charge, adds a
tax rate and the agency profile on the Settings page, and the portal shows its own billing
details read-only."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.conftest import ADMIN_TOKEN
from tests.api.graphql_support import create_client
from tests.e2e.conftest import App, screenshot
from tests.e2e.test_web_apps import field, portal_token, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_billing_details_treatment_settings_and_portal(
    app: App, browser: Browser, page: Page
) -> None:
    client_id = create_client(app.gql(), "Tax Co", {"percentageMargin": {"percent": "10"}})
    await sign_in(page, f"{app.url}/clients/{client_id}", ADMIN_TOKEN)
    panel = page.get_by_test_id("client-tax")
    await expect(panel).to_contain_text("Custom percent")
    await panel.get_by_label("Legal name").fill("Tax Co Ltd")
    await panel.get_by_label("Address lines (one per line, at most 4)").fill("1 High St")
    await panel.get_by_label("City").fill("London")
    await panel.get_by_label("Country (2 letters)").fill("GB")
    await panel.get_by_label("Tax id (VAT number)").fill("GB<123>")
    await panel.get_by_role("button", name="Save billing details").click()
    await expect(panel).to_contain_text("a tax id has only letters, digits, spaces and - . /")
    await panel.get_by_label("Tax id (VAT number)").fill("GB987654321")
    await panel.get_by_role("button", name="Save billing details").click()
    await expect(panel.get_by_text("a tax id has only")).to_have_count(0)
    await panel.get_by_role("textbox", name="Treatment").click()
    await page.get_by_role("option", name="Reverse charge (0, both tax ids printed)").click()
    await panel.get_by_role("button", name="Save treatment").click()
    await expect(
        panel.get_by_text("Reverse charge (0, both tax ids printed)").first
    ).to_be_visible()
    await screenshot(page, "14-client-tax")

    await page.get_by_role("link", name="Settings").click()
    await field(page, "Country").fill("DE")
    await field(page, "Percent").fill("119")
    await field(page, "Effective from").fill("2021-01-01")
    await page.get_by_role("button", name="Add rate").click()
    await expect(page.get_by_text("a tax rate is a percent between 0 and 100")).to_be_visible()
    await field(page, "Percent").fill("19")
    await page.get_by_role("button", name="Add rate").click()
    await expect(page.get_by_test_id("tax-rates")).to_contain_text("19%")
    profile = page.get_by_test_id("agency-profile")
    await field(profile, "Legal name").fill("Agency GmbH")
    await profile.get_by_label("Tax id (VAT number)").fill("DE123456789")
    await profile.get_by_role("button", name="Save agency profile").click()
    await expect(profile.get_by_text("No profile yet")).to_have_count(0)
    await screenshot(page, "15-settings-tax")

    portal = await browser.new_context(locale="en-US", timezone_id="UTC")
    try:
        portal_page = await portal.new_page()
        await sign_in(portal_page, app.url + "/portal", portal_token(app, client_id))
        details = portal_page.get_by_test_id("portal-billing-details")
        await expect(details).to_contain_text("Tax Co Ltd")
        await expect(details).to_contain_text("GB987654321")
        await expect(details).to_contain_text("Reverse charge")
    finally:
        await portal.close()
