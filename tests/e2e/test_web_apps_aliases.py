"""Model aliases in the browser: an owner sets one for a client on the catalog page (which shows
each model's routes and aliases), the client's app calls it, the portal shows the alias next to
the model that answered at the API's figures, and the owner removes it (docs/aliases.md)."""

from __future__ import annotations

import openai
import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.conftest import ADMIN_TOKEN
from tests.api.graphql_support import create_client, issue_key
from tests.e2e.conftest import App, screenshot
from tests.e2e.figures import usd
from tests.e2e.test_web_apps import field, portal_token, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

USAGE = """query($id: ID!) { aliasUsage(clientId: $id) { alias model requests
  charge { amount } } }"""


async def test_an_alias_set_in_the_catalog_reaches_the_portal(
    app: App, browser: Browser, page: Page
) -> None:
    client_id = create_client(app.gql(), "Alias Co", {"percentageMargin": {"percent": "20"}})
    key = issue_key(app.gql(), client_id)

    await sign_in(page, app.url + "/", ADMIN_TOKEN)
    await page.get_by_role("link", name="Model catalog").click()
    await expect(page.get_by_test_id("routes-demo/chat")).to_contain_text("/v1/responses")
    await expect(page.get_by_test_id("routes-demo/embed")).to_contain_text(":embedContent")
    await field(page, "Alias").fill("e2e-support-bot")
    await page.get_by_role("textbox", name="Calls model", exact=True).click()
    await page.get_by_role("option", name="demo/chat", exact=True).click()
    await page.get_by_role("textbox", name="For client", exact=True).click()
    await page.get_by_role("option", name="Alias Co").click()
    await page.get_by_role("button", name="Save alias").click()
    await expect(page.get_by_text("e2e-support-bot now calls demo/chat.")).to_be_visible()
    await expect(page.get_by_test_id("aliases")).to_contain_text("Alias Co")
    await expect(page.get_by_test_id("routes-demo/chat")).to_contain_text("e2e-support-bot")
    await screenshot(page, "13-model-aliases")

    async with openai.AsyncOpenAI(base_url=app.url + "/v1", api_key=key, max_retries=0) as sdk:
        for _ in range(2):
            answer = await sdk.chat.completions.create(
                model="e2e-support-bot", messages=[{"role": "user", "content": "Hello"}]
            )
            assert answer.model == "demo/chat"

    [row] = app.gql().data(USAGE, id=client_id)["aliasUsage"]
    assert (row["alias"], row["model"], row["requests"]) == ("e2e-support-bot", "demo/chat", 2)
    portal = await browser.new_context(locale="en-US", timezone_id="UTC")  # a session of its own
    try:
        portal_page = await portal.new_page()
        await sign_in(portal_page, app.url + "/portal", portal_token(app, client_id))
        table = portal_page.get_by_test_id("alias-usage")
        await expect(table).to_contain_text("e2e-support-bot")
        await expect(table).to_contain_text("demo/chat")
        await expect(table).to_contain_text(usd(row["charge"]["amount"]))
        await expect(portal_page.get_by_test_id("alias-names")).to_contain_text("e2e-support-bot")
        await screenshot(portal_page, "14-portal-aliases")
    finally:
        await portal.close()

    remove = page.get_by_role("button", name="Remove alias e2e-support-bot")
    await remove.click()
    await expect(remove).to_have_count(0)
    names = app.gql().data("{ modelAliases { name } }")["modelAliases"]
    assert "e2e-support-bot" not in [a["name"] for a in names]
