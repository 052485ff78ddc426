"""The reconciliation page in the browser: usage recorded through Bizgraph (seeded through the
store) against a provider invoice imported as `bizgraph reconcile-import` does; the day the
provider billed more is highlighted as drift, the day that agrees to the cent is not, the filter
keeps the drifting rows only, and the overview says how far the bills are reconciled. A call
billed on an estimate is listed below the table and settled through its form at the provider's
figures. On a server of its own (`empty_app`), so the shared server's figures are untouched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from adapters.reconciliation.csv_imports import invoice_rows
from api.container import close_container, make_container
from domain.billing.money import Money
from domain.ids import new_id
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.reconciliation import ReportOrigin
from domain.usecases.keys import NewKey
from tests.api.conftest import ADMIN_TOKEN
from tests.api.graphql_support import create_client
from tests.e2e.conftest import App, screenshot
from tests.e2e.test_web_apps import field, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

TODAY = datetime.now(UTC).date()
AGREES, DRIFTS = TODAY - timedelta(days=2), TODAY - timedelta(days=1)


def _call(
    client_id: str,
    key_id: str,
    day: date,
    hour: int,
    usage: TokenUsage,
    cost: str,
    *,
    source: UsageSource = UsageSource.REPORTED,
    request_id: str | None = None,
    price_version_id: str = "pv",
    plan_version_id: str | None = None,
) -> UsageRecord:
    """A gpt-4o-mini call charged 0.30 USD, as metering records it."""
    return UsageRecord(
        id=new_id(), request_id=request_id or new_id(), attempt=0, client_id=client_id,
        api_key_id=key_id, model_id="openai/gpt-4o-mini", provider="openai", usage=usage,
        cost=Money(Decimal(cost), "USD"), charge=Money(Decimal("0.30"), "USD"),
        price_version_id=price_version_id, plan_version_id=plan_version_id,
        started_at=datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
        latency_ms=5, status=CallStatus.SUCCEEDED, source=source,
    )  # fmt: skip


async def seed(app: App, client_id: str) -> None:
    container = make_container(app.settings)
    try:
        key = (await container.keys().issue(NewKey(client_id))).key
        async with container.uow()() as uow:
            for day in (AGREES, DRIFTS):
                usage = TokenUsage(input_tokens=1000, output_tokens=100)
                await uow.usage.add(_call(client_id, key.id, day, 10, usage, "0.21"))
            await uow.commit()
        invoice = (
            "date,model,cost,requests,input_tokens,output_tokens\n"
            f"{AGREES},gpt-4o-mini-2024-07-18,0.21,1,1000,100\n"
            f"{DRIFTS},gpt-4o-mini-2024-07-18,0.35,2,1500,150\n"
        )
        rows = invoice_rows(invoice, "openai")
        await container.reconciliation().import_report("openai", rows, ReportOrigin.INVOICE_CSV)
    finally:
        await close_container(container)


async def test_drift_is_highlighted_and_filtered(empty_app: App, page: Page) -> None:
    client_id = create_client(
        empty_app.gql(), "Reconciled Co", {"percentageMargin": {"percent": "20"}}
    )
    await seed(empty_app, client_id)

    await sign_in(page, empty_app.url + "/reconciliation", ADMIN_TOKEN)
    agrees = page.get_by_test_id(f"reconciliation-row-{AGREES}-gpt-4o-mini")
    drifts = page.get_by_test_id(f"reconciliation-row-{DRIFTS}-gpt-4o-mini")
    await expect(agrees).to_have_attribute("data-state", "ok")
    await expect(agrees).to_contain_text("Agrees")
    await expect(agrees).to_contain_text("0 USD (0.00%)")
    await expect(drifts).to_have_attribute("data-state", "drift")
    await expect(drifts).to_contain_text("1 / 2")
    await expect(drifts).to_contain_text("0.14 USD (+66.67%)")
    await expect(page.get_by_test_id("reconciled-through")).to_contain_text(
        f"openai: reconciled through {DRIFTS}"
    )
    await screenshot(page, "30-reconciliation")

    await page.get_by_text("Drift and outside spend only").click()  # the switch hides its input
    await expect(agrees).to_have_count(0)
    await expect(drifts).to_be_visible()

    await page.get_by_role("link", name="Overview").click()
    await expect(page.get_by_test_id("overview-reconciled-through")).to_contain_text(
        f"reconciled through {DRIFTS} (openai)"
    )


ESTIMATED_REQUEST = "req-estimated-e2e"


async def seed_estimated_call(app: App, client_id: str) -> None:
    """A call billed on an estimate (its stream was cut) yesterday, at the catalog's price and
    the client's plan, as metering records it: 10000 in / 2000 out, charged 0.30 USD; the
    provider's invoice of that day says it used 400 in / 50 out."""
    container = make_container(app.settings)
    try:
        key = (await container.keys().issue(NewKey(client_id))).key
        async with container.uow()() as uow:
            price = (await uow.catalog.prices("openai/gpt-4o-mini")).versions[-1]
            plan = (await uow.plans.history(client_id))[-1]
            usage = TokenUsage(input_tokens=10_000, output_tokens=2_000)
            estimated = _call(
                client_id, key.id, DRIFTS, 11, usage, "0.25",
                source=UsageSource.ESTIMATED, request_id=ESTIMATED_REQUEST,
                price_version_id=price.id, plan_version_id=plan.id,
            )  # fmt: skip
            await uow.usage.add(estimated)
            await uow.commit()
        # the provider's daily figure (no hourly one: nothing implies the call's tokens)
        invoice = (
            "date,model,cost,requests,input_tokens,output_tokens\n"
            f"{DRIFTS},gpt-4o-mini-2024-07-18,0.0001,1,400,50\n"
        )
        rows = invoice_rows(invoice, "openai")
        await container.reconciliation().import_report("openai", rows, ReportOrigin.INVOICE_CSV)
    finally:
        await close_container(container)


async def test_an_estimated_call_is_settled(empty_app: App, page: Page) -> None:
    client_id = create_client(
        empty_app.gql(), "Estimated Co", {"percentageMargin": {"percent": "20"}}
    )
    await seed_estimated_call(empty_app, client_id)

    await sign_in(page, empty_app.url + "/reconciliation", ADMIN_TOKEN)
    listed = page.get_by_test_id(f"estimated-call-{ESTIMATED_REQUEST}")
    await expect(listed).to_have_attribute("data-settled", "no")
    await expect(listed).to_contain_text("Estimated Co")
    await expect(listed).to_contain_text("10000 in / 2000 out")
    await expect(listed).to_contain_text("$0.30")
    await expect(listed).to_contain_text("cannot be told")  # no provider hour to imply it
    await listed.get_by_role("button", name="Settle").click()

    form = page.get_by_test_id("settle-form")
    await expect(form).to_contain_text("filled in with the estimate")
    await expect(field(page, "Input tokens")).to_have_value("10000")  # the estimate, to correct
    await field(page, "Input tokens").fill("400")
    await field(page, "Cached input").fill("500")  # more cached tokens than input: refused here
    await field(page, "Output tokens").fill("50")
    await field(page, "Reason").fill("OpenAI usage export: 400 in / 50 out")
    await form.get_by_role("button", name="Settle the call").click()
    await expect(form.get_by_role("alert", name="Not saved")).to_contain_text(
        "at most the input tokens"
    )
    await field(page, "Cached input").fill("0")
    await form.get_by_role("button", name="Settle the call").click()

    await expect(form).to_have_count(0)  # the dialog closes once settled
    await expect(listed).to_have_attribute("data-settled", "yes")
    await expect(listed).to_contain_text("Credited on the next invoice")  # an over-estimate
    await expect(listed).to_contain_text("-$0.30")
    await expect(listed).to_contain_text("OpenAI usage export: 400 in / 50 out")
    await expect(listed.get_by_role("button", name="Settle")).to_have_count(0)
    row = page.get_by_test_id(f"reconciliation-row-{DRIFTS}-gpt-4o-mini")
    await expect(row).to_contain_text("1 estimate settled")
    await screenshot(page, "31-estimate-settled")
