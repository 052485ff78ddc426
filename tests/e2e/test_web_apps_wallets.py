"""Prepaid wallets in the browser: an admin switches a client to prepaid on its page and tops
its wallet up, the client's calls draw it down, the statement shows both, and the client's
portal shows the balance and statement with its top-up button disabled (no payment processor
configured), as docs/wallets.md describes."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.conftest import ADMIN_TOKEN
from tests.api.graphql_support import create_client, issue_key
from tests.e2e.conftest import App, screenshot
from tests.e2e.test_web_apps import call, field, portal_token, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_admin_tops_up_a_prepaid_wallet_and_the_portal_shows_it(
    app: App, browser: Browser, page: Page
) -> None:
    client_id = create_client(app.gql(), "Wallet Co", {"percentageMargin": {"percent": "20"}})
    key = issue_key(app.gql(), client_id)

    await sign_in(page, app.url + "/", ADMIN_TOKEN)
    await page.goto(f"{app.url}/clients/{client_id}")
    panel = page.get_by_test_id("wallet-panel")
    await expect(panel.get_by_test_id("wallet-mode")).to_have_text("postpaid")
    await panel.get_by_text("Prepaid", exact=True).click()
    await expect(panel.get_by_test_id("wallet-mode")).to_have_text("prepaid")
    await field(page, "Top-up (USD)").fill("25")
    await field(page, "Top-up reference").fill("wire-e2e-1")
    await page.get_by_role("button", name="Top up").click()
    await expect(panel.get_by_test_id("wallet-balance")).to_contain_text("25.00")
    await expect(panel.get_by_test_id("wallet-statement")).to_contain_text("wire-e2e-1")

    await call(app, key, "demo/chat", times=2)
    await page.reload()
    statement = page.get_by_test_id("wallet-statement")
    await expect(statement).to_contain_text("Usage")
    await screenshot(page, "15-wallet-admin")

    portal = await browser.new_context(locale="en-US", timezone_id="UTC")
    try:
        portal_page = await portal.new_page()
        await sign_in(portal_page, app.url + "/portal", portal_token(app, client_id))
        mine = portal_page.get_by_test_id("wallet-panel")
        await expect(mine.get_by_test_id("wallet-statement")).to_contain_text("wire-e2e-1")
        await expect(mine.get_by_test_id("wallet-top-up")).to_be_disabled()
        await expect(mine).to_contain_text("Online payments are not configured")
        await screenshot(portal_page, "16-wallet-portal")
    finally:
        await portal.close()
