"""Budgets and invoices in the web apps, in headless Chromium against a running server: a hard
budget set in the UI refuses the call that does not fit (429 insufficient_quota) and the gauge,
the overview's budget column and the portal show the API's figures; a month closed early in the
UI gives the API's invoice, whose HTML opens through the link with the session cookie, and is
marked paid; a portal sees only its client's budget and invoices."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import openai
import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.graphql_support import create_client, issue_key
from tests.e2e.conftest import LAPTOP, TABLET, App, screenshot
from tests.e2e.figures import usd
from tests.e2e.test_web_apps import field, portal_token, sign_in, staff_token

pytestmark = pytest.mark.asyncio(loop_scope="session")

# gpt-4o-mini at a 30% margin with the fake provider's 12 in / 7 out tokens: a call is charged
# 7.8e-6 and holds 37.83e-6 (the body's 90 bytes + 64 prompt tokens, 10 output), so 0.00006
# admits three calls (2 x 7.8e-6 + 37.83e-6 fits, 3 x 7.8e-6 + 37.83e-6 does not), then refuses.
MODEL = "openai/gpt-4o-mini"
LIMIT = "0.00006"

BUDGET = """query($id: ID!) { client(id: $id) { budget { limit { amount } spent { amount }
  reserved { amount } remaining { amount } usedPercent thresholds } } }"""
INVOICES = """query($id: ID!) { invoices(clientId: $id) { id number status total { amount }
  subtotal { amount } tax { amount } lines { description amount { amount } } } }"""


def percent(used: str) -> str:
    return f"{Decimal(used).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def level(budget: dict[str, Any]) -> str:
    """What the gauge's colour should say, from the API's figures (web/src/shared/budgets.ts)."""
    limit = Decimal(budget["limit"]["amount"])
    committed = Decimal(budget["spent"]["amount"]) + Decimal(budget["reserved"]["amount"])
    if committed >= limit:
        return "over"
    warning = max((t for t in budget["thresholds"] if t < 100), default=80)
    return "near" if committed / limit * 100 >= warning else "ok"


async def calls_until_refused(app: App, key: str, most: int = 20) -> tuple[int, Any]:
    async with openai.AsyncOpenAI(base_url=app.url + "/v1", api_key=key, max_retries=0) as sdk:
        for done in range(most):
            try:
                await sdk.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=10
                )
            except openai.RateLimitError as refused:
                return done, refused
    raise AssertionError(f"{most} calls passed a hard budget of {LIMIT}")


async def test_a_hard_budget_set_in_the_ui_refuses_and_the_pages_show_the_apis_figures(
    app: App, page: Page, browser: Browser
) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    client_id = create_client(app.gql(), "Budget client", {"percentageMargin": {"percent": "30"}})
    key = issue_key(app.gql(), client_id)
    await sign_in(page, f"{app.url}/clients/{client_id}", staff_token(app, "Bea", "ADMIN"))
    await expect(page.get_by_test_id("no-budget")).to_be_visible()

    await page.get_by_role("button", name="Set a budget").click()
    await field(page, "Limit per month (USD)").fill("-1")  # the API's message, as it comes
    await page.get_by_role("button", name="Save budget").click()
    await expect(page.get_by_role("alert")).to_contain_text("Not saved")
    await field(page, "Limit per month (USD)").fill(LIMIT)
    await field(page, "Alert thresholds (%)").fill("30, 35, 100")
    await page.get_by_role("button", name="Save budget").click()
    await expect(page.get_by_test_id("budget")).to_be_visible()

    passed, refused = await calls_until_refused(app, key)
    assert passed == 3
    assert refused.status_code == 429
    assert refused.body["type"] == "insufficient_quota"

    for _ in range(200):  # the gateway gives its idle budget lease back after 2 s
        budget = app.gql().data(BUDGET, id=client_id)["client"]["budget"]
        if budget["reserved"]["amount"] == "0":
            break
        await asyncio.sleep(0.05)
    await page.reload()
    assert Decimal(budget["spent"]["amount"]) == Decimal("0.0000078") * passed
    gauge = page.get_by_test_id("budget")
    await expect(page.get_by_test_id("budget-limit")).to_have_text(usd(budget["limit"]["amount"]))
    await expect(page.get_by_test_id("budget-spent")).to_have_text(usd(budget["spent"]["amount"]))
    await expect(page.get_by_test_id("budget-reserved")).to_have_text(
        usd(budget["reserved"]["amount"])
    )
    await expect(page.get_by_test_id("budget-remaining")).to_have_text(
        usd(budget["remaining"]["amount"])
    )
    await expect(page.get_by_test_id("budget-used")).to_have_text(
        f"{percent(budget['usedPercent'])} used"
    )
    assert level(budget) == "near"  # 39% spent, past the 35% threshold
    await expect(gauge).to_have_attribute("data-level", "near")
    await screenshot(page, "20-client-budget")

    # Per-key rate limits, edited in the key's dialog and shown on its row.
    await page.get_by_role("button", name=re.compile("^Limits of key")).click()
    await field(page, "Requests per minute").fill("0")
    await page.get_by_role("button", name="Save rate limits").click()
    await expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("at least 1")
    await field(page, "Requests per minute").fill("60")
    await page.get_by_role("button", name="Save rate limits").click()
    await expect(page.get_by_role("dialog").get_by_role("status")).to_contain_text("saved")
    await page.keyboard.press("Escape")
    row = page.get_by_test_id("keys").locator("tbody tr").first
    await expect(row.locator("[data-col=limits]")).to_have_text("60 req/min")
    limits = app.gql().data(
        "query($id: ID!) { client(id: $id) { apiKeys { rpmLimit tpmLimit } } }", id=client_id
    )["client"]["apiKeys"][0]
    assert limits == {"rpmLimit": 60, "tpmLimit": None}

    # The overview's budget column: the same figure, the same warning, from the same query.
    await page.get_by_role("link", name="Overview").click()
    budget_cell = page.get_by_test_id(f"client-row-{client_id}").locator("[data-col=budget]")
    await expect(budget_cell).to_contain_text(percent(budget["usedPercent"]))
    await expect(budget_cell).to_have_attribute("data-level", "near")
    await page.get_by_role("button", name=re.compile("^Budget use")).click()  # highest first
    first = page.get_by_test_id("client-table").locator("tbody tr").first
    await expect(first).to_have_attribute("data-testid", f"client-row-{client_id}")
    await screenshot(page, "21-overview-budget-column")
    await page.set_viewport_size(TABLET)
    await page.goto(f"{app.url}/clients/{client_id}")
    await expect(page.get_by_test_id("budget-used")).to_be_visible()
    await screenshot(page, "21-client-budget-tablet")

    # The portal: limit, spent, remaining and used % at the client's price; nothing held back.
    portal = await browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="UTC")
    try:
        mine = await portal.new_page()
        await sign_in(mine, app.url + "/portal", portal_token(app, client_id))
        await expect(mine.get_by_test_id("portal-budget-limit")).to_have_text(
            usd(budget["limit"]["amount"])
        )
        await expect(mine.get_by_test_id("portal-budget-spent")).to_have_text(
            usd(budget["spent"]["amount"])
        )
        await expect(mine.get_by_test_id("portal-budget-remaining")).to_have_text(
            usd(budget["remaining"]["amount"])
        )
        await expect(mine.get_by_test_id("portal-budget-used")).to_contain_text(
            percent(budget["usedPercent"])
        )
        await expect(mine.get_by_test_id("portal-budget-reserved")).to_have_count(0)
        await screenshot(mine, "22-portal-budget")
    finally:
        await portal.close()


async def test_a_budget_on_provider_cost_shows_no_figures_in_the_portal(
    app: App, browser: Browser
) -> None:
    client_id = create_client(app.gql(), "Flat budget", {"fixedPrice": {"monthlyPrice": "50"}})
    set_budget = app.gql().data(
        """mutation($id: ID!) { setBudget(clientId: $id, input: {limit: "7.25"}) {
             ... on SetBudgetSuccess { budget { basis } } } }""",
        id=client_id,
    )
    assert set_budget["setBudget"]["budget"]["basis"] == "COST"
    portal = await browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="UTC")
    try:
        page = await portal.new_page()
        asked: list[str] = []
        page.on(
            "request", lambda r: asked.append(r.post_data or "") if "/graphql" in r.url else None
        )
        await sign_in(page, app.url + "/portal", portal_token(app, client_id))
        await expect(page.get_by_test_id("portal-budget-cost")).to_be_visible()
        # No figure of it at all, not even a percentage (the API gives a portal none).
        await expect(page.get_by_test_id("portal-budget-cost")).to_contain_text(
            "on their own figures (not shown here); calls past it are refused"
        )
        await expect(page.get_by_test_id("portal-budget-cost")).not_to_contain_text("%")
        await page.wait_for_load_state("networkidle")
        await expect(page.get_by_text("$7.25")).to_have_count(0)
        # The figures are not even asked for: the budget's fields are skipped (@include false).
        billing = [body for body in asked if "PortalBilling" in body]
        assert billing
        assert all('"byCharge":false' in body for body in billing)
    finally:
        await portal.close()


async def test_closing_the_month_early_in_the_ui_gives_the_apis_invoice(
    empty_app: App, page: Page, browser: Browser
) -> None:
    """On a server of its own: closing a month closes it for every client there."""
    app = empty_app
    start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    whole_month = {"pricingEffectiveFrom": start.isoformat(), "taxRate": "20"}
    fee = create_client(
        app.gql(), "Invoice client", {"fixedFee": {"monthlyFee": "100"}}, **whole_month
    )
    other = create_client(
        app.gql(), "Other client", {"fixedFee": {"monthlyFee": "40"}}, **whole_month
    )
    async with openai.AsyncOpenAI(
        base_url=app.url + "/v1", api_key=issue_key(app.gql(), fee), max_retries=0
    ) as sdk:
        for _ in range(2):
            await sdk.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}]
            )

    page.on("dialog", lambda dialog: dialog.accept())
    await sign_in(page, app.url + "/invoices", staff_token(app, "Ivo", "OWNER"))
    await expect(page.get_by_role("heading", name="No invoices yet")).to_be_visible()
    close = page.get_by_role("button", name=re.compile("^Close "))
    await expect(close).to_be_disabled()  # the current month closes only early, ticked on purpose
    await page.get_by_label("Close early: this month has not ended").check()
    await close.click()
    await expect(page.get_by_test_id("close-result")).to_contain_text("2 invoices finalized")

    invoice = app.gql().data(INVOICES, id=fee)["invoices"][0]
    assert invoice["status"] == "FINALIZED"
    row = page.get_by_test_id(f"invoice-row-{invoice['number']}")
    await expect(row.locator("[data-col=total]")).to_have_text(usd(invoice["total"]["amount"]))
    await expect(row.locator("[data-col=client]")).to_have_text("Invoice client")
    await screenshot(page, "23-invoices")

    await row.get_by_role("link", name=invoice["number"], exact=True).click()
    await expect(page.get_by_test_id("invoice-number")).to_have_text(invoice["number"])
    shown = page.get_by_test_id("invoice-lines").get_by_test_id("invoice-line")
    await expect(shown).to_have_count(len(invoice["lines"]))
    for index, line in enumerate(invoice["lines"]):
        await expect(shown.nth(index).locator("[data-col=amount]")).to_have_text(
            usd(line["amount"]["amount"])
        )
    await expect(page.get_by_test_id("invoice-totals-total")).to_have_text(
        usd(invoice["total"]["amount"])
    )
    await expect(page.get_by_test_id("invoice-totals-tax")).to_have_text(
        usd(invoice["tax"]["amount"])
    )

    # The HTML opens from the link: a plain GET, authenticated by the session cookie alone.
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name=f"Invoice {invoice['number']} as HTML").click()
    html = await opened.value
    await html.wait_for_load_state()
    assert f"{invoice['total']['amount']} USD" in await html.content()
    await html.close()
    await screenshot(page, "24-invoice")

    await page.get_by_role("button", name="Mark paid").click()
    await expect(page.get_by_test_id("invoice-history")).to_contain_text("Marked paid")
    paid = app.gql().data(INVOICES, id=fee)["invoices"][0]
    assert paid["status"] == "PAID"

    await expect(page.get_by_role("button", name="Issue credit note")).to_be_visible()

    # A viewer reads the same invoice without the controls that change things.
    viewer = await browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="UTC")
    try:
        read_only = await viewer.new_page()
        await sign_in(read_only, page.url, staff_token(app, "Vic", "VIEWER"))
        await expect(read_only.get_by_test_id("invoice-number")).to_have_text(invoice["number"])
        await expect(read_only.get_by_role("button", name="Issue credit note")).to_have_count(0)
        await read_only.get_by_role("link", name="Invoices").click()
        await expect(read_only.get_by_test_id("invoices")).to_contain_text(invoice["number"])
        await expect(read_only.get_by_role("button", name=re.compile("^Close "))).to_have_count(0)
    finally:
        await viewer.close()

    # The portal: its client's invoices only, with their links.
    others = app.gql().data(INVOICES, id=other)["invoices"]
    portal = await browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="UTC")
    try:
        mine = await portal.new_page()
        await sign_in(mine, app.url + "/portal", portal_token(app, fee))
        listed = mine.get_by_test_id("portal-invoices")
        await expect(listed).to_contain_text(invoice["number"])
        await expect(listed).to_contain_text("paid")
        await expect(listed).not_to_contain_text(others[0]["number"])
        await expect(
            listed.get_by_role("link", name=f"Invoice {invoice['number']} as PDF")
        ).to_be_visible()
        await expect(mine.get_by_test_id("portal-no-budget")).to_be_visible()
        await expect(mine.get_by_test_id("draft-invoice")).to_contain_text(invoice["number"])
        await screenshot(mine, "25-portal-invoices")
    finally:
        await portal.close()


async def test_an_account_credit_granted_on_the_client_page_is_the_apis(
    app: App, page: Page
) -> None:
    client_id = create_client(app.gql(), "Credit client", {"fixedFee": {"monthlyFee": "20"}})
    await sign_in(page, f"{app.url}/clients/{client_id}", staff_token(app, "Cy", "ADMIN"))
    await expect(page.get_by_text("No credit left to apply")).to_be_visible()

    await field(page, "Credit amount (USD)").fill("-3")  # the API's message, as it comes
    await field(page, "Reason").fill("Goodwill")
    await page.get_by_role("button", name="Grant credit").click()
    await expect(page.get_by_role("alert")).to_contain_text("Not saved")
    await field(page, "Credit amount (USD)").fill("12.50")
    await page.get_by_role("button", name="Grant credit").click()

    row = page.get_by_test_id("client-credits").locator("tbody tr").first
    await expect(row).to_contain_text("Goodwill")
    await expect(row).to_contain_text("$12.50")
    credits = app.gql().data(
        "query($id: ID!) { credits(clientId: $id) { amount { amount } remaining { amount } reason } }",
        id=client_id,
    )["credits"]
    assert credits == [
        {"amount": {"amount": "12.50"}, "remaining": {"amount": "12.50"}, "reason": "Goodwill"}
    ]
