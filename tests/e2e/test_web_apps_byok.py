"""A client's own provider key in the browser (docs/byok.md): an owner stores one on the client
page (checked with the strict fake provider), sees it masked, sets the fee; the client's call
goes upstream with that key; the admin page and the portal show the BYOK usage apart; the key
is never in the page."""

from __future__ import annotations

import openai
import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.conftest import ADMIN_TOKEN, Upstreams
from tests.api.graphql_support import create_client, issue_key
from tests.e2e.conftest import App, screenshot
from tests.e2e.test_web_apps import field, portal_token, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY = "sk-e2e-client-own-key-2468"


async def test_an_owner_stores_a_clients_key_and_both_apps_show_its_usage(
    app: App, browser: Browser, page: Page, upstreams: Upstreams
) -> None:
    upstreams.openai.client_keys.add(KEY)
    client_id = create_client(app.gql(), "BYOK Co", {"percentageMargin": {"percent": "20"}})
    key = issue_key(app.gql(), client_id)

    await sign_in(page, app.url + "/", ADMIN_TOKEN)
    await page.goto(f"{app.url}/clients/{client_id}")
    await field(page, "API key").fill(KEY)
    await page.get_by_role("button", name="Check and store").click()
    await expect(page.get_by_text("Stored the key ending 2468.")).to_be_visible()
    await expect(page.get_by_test_id("byok-credentials")).to_contain_text("…2468")
    await page.get_by_role("textbox", name="Fee", exact=True).click()
    await page.get_by_role("option", name="Percent of list cost").click()
    await field(page, "Amount (percent, or per request / per million tokens)").fill("10")
    await page.get_by_role("button", name="Save fee and rules").click()
    await expect(field(page, "API key")).to_have_value("")
    assert KEY not in await page.content()

    async with openai.AsyncOpenAI(base_url=app.url + "/v1", api_key=key, max_retries=0) as sdk:
        await sdk.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
        )
    assert upstreams.openai.last.header("authorization") == f"Bearer {KEY}"

    await page.reload()
    usage = page.get_by_test_id("byok-usage")
    await expect(usage).to_contain_text("openai/gpt-4o-mini")
    await screenshot(page, "15-byok-client-page")
    assert KEY not in await page.content()

    portal = await browser.new_context(locale="en-US", timezone_id="UTC")
    try:
        portal_page = await portal.new_page()
        await sign_in(portal_page, app.url + "/portal", portal_token(app, client_id))
        await expect(portal_page.get_by_test_id("byok-usage")).to_contain_text("openai/gpt-4o-mini")
        await expect(portal_page.get_by_test_id("byok-credentials")).to_have_count(0)
    finally:
        await portal.close()
