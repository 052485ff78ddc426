"""The admin app and the client portal in headless Chromium against a running server with fake
upstream providers: what a newcomer sees first, creating clients (one per plan) and keys in the
UI, calls through the gateway, figures on the pages equal to the API's, the portal scoped to its
client, a viewer's read-only screens. Screenshots of the main pages go to test-output/."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import openai
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.api.conftest import ADMIN_TOKEN
from tests.api.graphql_support import create_client, issue_key
from tests.e2e.conftest import TABLET, App, screenshot
from tests.e2e.figures import ratio, usd

pytestmark = pytest.mark.asyncio(loop_scope="session")

OVERVIEW = """{ overview { revenue { amount } cost { amount } profit { amount } margin requests
  rows { client { id name } requests revenue { amount } cost { amount } profit { amount } margin } } }"""
CLIENT = """query($id: ID!) { client(id: $id) { name usage { requests revenue { amount }
  cost { amount } profit { amount } margin charge { amount } byModel { model requests } } } }"""


def staff_token(app: App, name: str, role: str) -> str:
    created = app.gql().data(
        """mutation($input: CreateStaffTokenInput!) { createStaffToken(input: $input) {
             ... on CreateStaffTokenSuccess { secret } } }""",
        input={"name": name, "role": role},
    )["createStaffToken"]
    secret: str = created["secret"]
    return secret


def portal_token(app: App, client_id: str) -> str:
    created = app.gql().data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]
    secret: str = created["secret"]
    return secret


def portal_login(app: App, token: str) -> int:
    response = httpx.post(
        app.url + "/auth/login",
        json={"token": token, "app": "portal"},
        headers={"x-bizgraph-request": "1"},
    )
    return response.status_code


async def sign_in(page: Page, url: str, token: str) -> None:
    """By keyboard: the token field has focus; Enter submits."""
    await page.goto(url)
    field = page.get_by_label("Token")
    await expect(field).to_be_focused()
    await page.keyboard.type(token)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def field(page: Page, label: str) -> Any:
    """The input labelled exactly `label` (a required field's label ends in " *")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


async def call(app: App, key: str, model: str, times: int = 1) -> None:
    async with openai.AsyncOpenAI(base_url=app.url + "/v1", api_key=key, max_retries=0) as sdk:
        for _ in range(times):
            await sdk.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "Hello"}]
            )


async def cell(row: Any, column: str) -> str:
    text: str = await row.locator(f"[data-col={column}]").inner_text()
    return text.splitlines()[0].strip()  # the figure, without a "loss" badge under it


async def test_a_newcomer_sees_how_to_sign_in_then_how_to_start(empty_app: App, page: Page) -> None:
    await page.goto(empty_app.url + "/")
    await expect(page.get_by_role("heading", name="Sign in to Bizgraph")).to_be_visible()
    await expect(page.get_by_text("bizgraph staff issue")).to_be_visible()
    await screenshot(page, "01-sign-in")

    await page.get_by_label("Token").fill("bzs_" + "x" * 43)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not valid")

    await sign_in(page, empty_app.url + "/", staff_token(empty_app, "Newcomer", "OWNER"))
    await expect(page.get_by_role("heading", name="No clients yet")).to_be_visible()
    await expect(page.get_by_role("link", name="Create your first client")).to_be_visible()
    await screenshot(page, "02-overview-empty")


async def test_clients_keys_and_calls_show_the_apis_figures(app: App, page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    await sign_in(page, app.url + "/", staff_token(app, "Olivia", "OWNER"))
    await expect(page.get_by_test_id("signed-in-as")).to_have_text("Olivia")

    plans = {
        "Margin client": ("Margin on cost", "30"),
        "Fee client": ("Cost + monthly fee", "100"),
        "Flat client": ("Fixed monthly price", "500"),
    }
    made: dict[str, tuple[str, str]] = {}
    for name, (plan, amount) in plans.items():
        await page.get_by_role(
            "link", name=re.compile("New client|Create your first client")
        ).first.click()
        await field(page, "Name").fill(name)
        await page.get_by_text(plan, exact=True).click()
        amount_field = page.get_by_label(re.compile(r"^(Margin \(%\)|Monthly fee|Monthly price)"))
        if name == "Flat client":  # the API's validation message, shown as it comes
            await amount_field.fill("12.345")
            await page.get_by_role("button", name="Create client").click()
            await expect(page.get_by_role("alert")).to_contain_text("minor units")
            await screenshot(page, "03-new-client-validation")
        await amount_field.fill(amount)
        if name == "Fee client":  # bill the whole month: the plan from the 1st, agency's zone
            await page.get_by_label(re.compile("^Bill the whole of")).check()
        await page.get_by_role("button", name="Create client").click()
        await expect(page.get_by_test_id("client-name")).to_have_text(name)
        client_id = page.url.rstrip("/").rsplit("/", 1)[1]

        await field(page, "Key name").fill("production")
        await page.get_by_role("button", name="Issue key").click()
        secret = (await page.get_by_test_id("secret").inner_text()).strip()
        assert secret.startswith("bzk_")
        if name == "Margin client":
            await expect(page.get_by_role("button", name="Copy")).to_be_visible()
            await screenshot(page, "04-key-shown-once")
        await page.get_by_role("button", name="Done").click()
        await expect(page.get_by_test_id("keys")).to_contain_text(secret[:10])
        made[name] = (client_id, secret)
        await page.get_by_role("link", name="Overview").click()

    fee_id = made["Fee client"][0]
    fee = app.gql().data(
        "query($id: ID!) { client(id: $id) { pricingHistory { effectiveFrom } "
        "usage { fixedCharges { amount } } } }",
        id=fee_id,
    )["client"]
    now = datetime.now(UTC)
    assert fee["usage"]["fixedCharges"]["amount"] == "100.00"  # the whole month, not prorated
    assert datetime.fromisoformat(fee["pricingHistory"][0]["effectiveFrom"]) == now.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )

    await call(app, made["Margin client"][1], "openai/gpt-4o-mini", times=3)
    await call(app, made["Margin client"][1], "demo/chat")
    await call(app, made["Fee client"][1], "demo/chat", times=2)
    await call(app, made["Flat client"][1], "openai/gpt-4o-mini")

    # A flat-rate client whose price is below its cost: the loss is shown and said.
    loser = create_client(app.gql(), "Loss client", {"fixedPrice": {"monthlyPrice": "0"}})
    await call(app, issue_key(app.gql(), loser), "openai/gpt-4o-mini", times=2)

    await page.reload()
    overview = app.gql().data(OVERVIEW)["overview"]
    await expect(page.get_by_test_id("total-revenue")).to_have_text(
        usd(overview["revenue"]["amount"])
    )
    await expect(page.get_by_test_id("total-cost")).to_have_text(usd(overview["cost"]["amount"]))
    await expect(page.get_by_test_id("total-profit")).to_have_text(
        usd(overview["profit"]["amount"])
    )
    await expect(page.get_by_test_id("total-margin")).to_have_text(ratio(overview["margin"]))
    for row in overview["rows"]:
        shown = page.get_by_test_id(f"client-row-{row['client']['id']}")
        assert await cell(shown, "revenue") == usd(row["revenue"]["amount"])
        assert await cell(shown, "cost") == usd(row["cost"]["amount"])
        assert await cell(shown, "profit") == usd(row["profit"]["amount"])
        assert await cell(shown, "margin") == ratio(row["margin"])
        assert await cell(shown, "requests") == str(row["requests"])
    loss_row = page.get_by_test_id(f"client-row-{loser}")
    await expect(loss_row.get_by_text("loss", exact=True)).to_be_visible()
    await screenshot(page, "05-overview")

    # Sorting by a column orders the rows by that figure (exact decimals, not text).
    await page.get_by_role("button", name=re.compile("^Requests")).click()
    first = page.get_by_test_id("client-table").locator("tbody tr").first
    busiest = max(overview["rows"], key=lambda r: r["requests"])
    assert await cell(first, "requests") == str(busiest["requests"])

    margin_id, margin_key = made["Margin client"]
    await page.goto(f"{app.url}/clients/{margin_id}")
    figures = app.gql().data(CLIENT, id=margin_id)["client"]["usage"]
    await expect(page.get_by_test_id("client-revenue")).to_have_text(
        usd(figures["revenue"]["amount"])
    )
    await expect(page.get_by_test_id("client-cost")).to_have_text(usd(figures["cost"]["amount"]))
    await expect(page.get_by_test_id("client-profit")).to_have_text(
        usd(figures["profit"]["amount"])
    )
    await expect(page.get_by_test_id("client-plan")).to_have_text("Provider cost + 30% margin")
    by_model = page.get_by_test_id("by-model")
    for model in figures["byModel"]:
        await expect(by_model).to_contain_text(model["model"])
    await screenshot(page, "06-client-page")

    # Revoking in the UI stops the key on its next call.
    await page.get_by_role("button", name="Revoke", exact=True).click()
    await expect(page.get_by_test_id("keys")).to_contain_text("revoked")
    with pytest.raises(openai.AuthenticationError):
        await call(app, margin_key, "demo/chat")

    # A portal token made in the UI opens the portal until it is revoked in the UI.
    await field(page, "Portal token name").fill("finance team")
    await page.get_by_role("button", name="Create a portal token").click()
    portal_secret = (await page.get_by_test_id("secret").inner_text()).strip()
    await page.get_by_role("button", name="Done").click()
    await expect(page.get_by_test_id("portal-tokens")).to_contain_text("finance team")
    assert portal_login(app, portal_secret) == 200
    await page.get_by_role("button", name=re.compile("^Revoke portal token")).click()
    await expect(page.get_by_test_id("portal-tokens")).to_contain_text("revoked")
    assert portal_login(app, portal_secret) == 401

    # A new plan version from the edit page, in the plan history.
    await page.get_by_role("link", name="Edit client and plan").click()
    await page.get_by_text("Cost + monthly fee", exact=True).click()
    await page.get_by_label(re.compile("^Monthly fee")).fill("250")
    await page.get_by_role("button", name="Set plan").click()
    await expect(page.get_by_text("Plan saved.")).to_be_visible()
    await page.get_by_role("link", name="Back to the client").click()
    await expect(page.get_by_test_id("client-plan")).to_have_text("Provider cost + $250.00 a month")
    await expect(page.get_by_test_id("plan-history").locator("tbody tr")).to_have_count(2)


async def test_the_portal_shows_only_its_client_at_its_price(
    app: App, context: BrowserContext, page: Page
) -> None:
    mine = create_client(app.gql(), "Portal Co", {"percentageMargin": {"percent": "50"}})
    other = create_client(app.gql(), "Someone Else Ltd", {"percentageMargin": {"percent": "10"}})
    await call(app, issue_key(app.gql(), mine), "openai/gpt-4o-mini", times=2)
    await call(app, issue_key(app.gql(), other), "openai/gpt-4o-mini")

    await sign_in(page, app.url + "/portal", portal_token(app, mine))
    await expect(page.get_by_test_id("portal-client")).to_have_text("Portal Co")
    figures = app.gql().data(CLIENT, id=mine)["client"]["usage"]
    await expect(page.get_by_test_id("portal-total")).to_have_text(
        usd(figures["revenue"]["amount"])
    )
    await expect(page.get_by_test_id("portal-usage")).to_have_text(usd(figures["charge"]["amount"]))
    await expect(page.get_by_test_id("portal-keys")).to_contain_text("bzk_")
    body = await page.locator("body").inner_text()
    for hidden in ("Someone Else", "Provider cost", "Profit", "Margin"):
        assert hidden not in body
    await screenshot(page, "07-portal")

    # The session cookie is the portal token's: other clients and costs stay out of reach.
    answer = await page.evaluate(
        """async (other) => {
             const response = await fetch("/graphql", {
               method: "POST",
               headers: {"content-type": "application/json", "X-Bizgraph-Request": "1"},
               body: JSON.stringify({query: `{ client(id: "${other}") { name }
                                               clients { name } }`}),
             });
             const costs = await fetch("/graphql", {
               method: "POST",
               headers: {"content-type": "application/json", "X-Bizgraph-Request": "1"},
               body: JSON.stringify({query: "{ overview { cost { amount } } }"}),
             });
             return {scoped: await response.json(), costs: await costs.json()};
           }""",
        other,
    )
    assert answer["scoped"]["data"] == {"client": None, "clients": [{"name": "Portal Co"}]}
    assert "not allowed" in answer["costs"]["errors"][0]["message"]
    assert await page.evaluate("document.cookie") == ""  # HttpOnly: scripts never see it

    # The admin app does not open with a portal session.
    await page.goto(app.url + "/")
    await expect(page.get_by_role("heading", name="Sign in to Bizgraph")).to_be_visible()


async def test_a_viewer_reads_everything_and_changes_nothing(
    app: App, context: BrowserContext, page: Page
) -> None:
    client_id = create_client(app.gql(), "Viewer's view", {"fixedFee": {"monthlyFee": "20"}})
    issue_key(app.gql(), client_id)
    await page.set_viewport_size(TABLET)
    await sign_in(page, app.url + "/", staff_token(app, "Vic", "VIEWER"))
    await expect(page.get_by_test_id("client-table")).to_be_visible()
    await expect(page.get_by_role("link", name="New client")).to_have_count(0)
    await screenshot(page, "08-overview-viewer-tablet")

    await page.goto(f"{app.url}/clients/{client_id}")
    await expect(page.get_by_test_id("client-name")).to_have_text("Viewer's view")
    await expect(page.get_by_test_id("keys")).to_be_visible()
    for action in ("Issue key", "Revoke", "Suspend", "Create a portal token"):
        await expect(page.get_by_role("button", name=action)).to_have_count(0)
    await expect(page.get_by_role("link", name="Staff and tokens")).to_have_count(0)
    await page.get_by_role("button", name="Menu").click()  # tablets: navigation behind a menu
    await page.get_by_role("link", name="Model catalog").click()
    await expect(page.get_by_test_id("models")).to_contain_text("openai/gpt-4o-mini")
    await expect(page.get_by_role("button", name="Save price")).to_have_count(0)


async def test_catalog_and_staff_screens_for_an_owner(app: App, page: Page) -> None:
    await sign_in(page, app.url + "/", ADMIN_TOKEN)
    await page.get_by_role("link", name="Model catalog").click()
    await expect(page.get_by_test_id("models")).to_contain_text("demo/chat")
    await field(page, "Model").fill("openai/e2e-model")
    await field(page, "Input").fill("1.25")
    await field(page, "Output").fill("5")
    await page.get_by_role("button", name="Save price").click()
    await expect(page.get_by_text("Saved a price version for openai/e2e-model.")).to_be_visible()
    await expect(page.get_by_test_id("models")).to_contain_text("openai/e2e-model")
    models = app.gql().data("{ models { id prices { inputPerMillion } } }")["models"]
    added = next(m for m in models if m["id"] == "openai/e2e-model")
    assert [p["inputPerMillion"] for p in added["prices"]] == ["1.25"]
    await screenshot(page, "09-model-catalog")

    await page.get_by_role("link", name="Staff and tokens").click()
    await field(page, "Name").fill("Grace")
    await page.get_by_role("button", name="Create token").click()
    secret = (await page.get_by_test_id("secret").inner_text()).strip()
    assert secret.startswith("bzs_")
    await page.get_by_role("button", name="Done").click()
    await expect(page.get_by_test_id("staff")).to_contain_text("Grace")
    await screenshot(page, "10-staff")
