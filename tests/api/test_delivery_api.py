"""Invoice delivery over HTTP on a gateway of its own with SMTP pointed at a local sink: the
finalized invoice is emailed by `serve`'s loop and its delivery shows on the invoice; send is
once, resend again; a portal sees its own history but cannot send; without SMTP the API says
so (`invoiceEmail`) and sending is the typed `email_not_configured` conflict."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.persistence.migrate import upgrade
from api.app import create_app
from api.settings import Environment, Settings
from api.settings_sections import EmailSettings, SmtpSecurity, WebhookSettings
from tests.api.conftest import ADMIN_TOKEN, _seed
from tests.api.graphql_support import Gql, create_client
from tests.support.servers import serve_in_thread
from tests.support.smtp_sink import SmtpSink, smtp_sink

CLOSE = """mutation($period: String!) { closePeriod(period: $period, early: true) {
  ... on ClosePeriodSuccess { invoices { id number clientId } } } }"""
STATUS = "{ invoiceEmail { enabled reason autoSend } }"
HISTORY = """query($id: ID!) { invoiceDeliveries(invoiceId: $id) {
  id kind status recipient attempts lastError sentAt requestedBy } }"""
SEND_RESULT = """__typename
  ... on SendInvoiceSuccess { delivery { id status recipient kind } }
  ... on ConflictError { message code }
  ... on NotFoundError { message code }"""
SEND = f"mutation($id: ID!) {{ sendInvoice(id: $id) {{ {SEND_RESULT} }} }}"
RESEND = f"mutation($id: ID!) {{ resendInvoice(id: $id) {{ {SEND_RESULT} }} }}"
OVERDUE = "{ overdueInvoices { daysOverdue invoice { id number } } }"
PORTAL = """mutation($id: ID!) { createPortalToken(clientId: $id) {
  ... on CreatePortalTokenSuccess { secret } } }"""


def settings_for(url: str, sink: SmtpSink | None) -> Settings:
    email = (
        None
        if sink is None
        else EmailSettings(sink.host, sink.port, "billing@agency.test", security=SmtpSecurity.NONE)
    )
    return Settings(
        database_url=url,
        secret_key="test-server-secret-" + "y" * 32,
        admin_token=ADMIN_TOKEN,
        env=Environment.DEVELOPMENT,
        email=email,
        webhooks=WebhookSettings(poll_seconds=0.2),
    )


@pytest.fixture
def gateway(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Gql, SmtpSink | None]]:
    with_smtp = request.param
    url = f"sqlite:///{tmp_path / 'delivery.db'}"
    asyncio.run(upgrade(url))
    with smtp_sink() as sink:
        settings = settings_for(url, sink if with_smtp else None)
        asyncio.run(_seed(settings))
        with serve_in_thread(create_app(settings)) as base_url:
            yield Gql(base_url + "/graphql", ADMIN_TOKEN), sink if with_smtp else None


def close_invoice(gql: Gql, email: str | None = "ap@client.test") -> dict[str, Any]:
    extra = {} if email is None else {"billingEmail": email}
    create_client(gql, "Acme", {"fixedFee": {"monthlyFee": "100"}}, **extra)
    period = datetime.now(UTC).strftime("%Y-%m")
    [invoice] = gql.data(CLOSE, period=period)["closePeriod"]["invoices"]
    return dict(invoice)


def wait_for(gql: Gql, invoice_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = gql.data(HISTORY, id=invoice_id)["invoiceDeliveries"]
        if len([d for d in found if d["status"] == "SENT"]) >= count:
            return list(found)
        time.sleep(0.2)
    raise AssertionError(f"not sent: {found}")


@pytest.mark.parametrize("gateway", [True], indirect=True)
def test_invoices_are_emailed_and_resent(gateway: tuple[Gql, SmtpSink | None]) -> None:
    gql, sink = gateway
    assert sink is not None
    assert gql.data(STATUS)["invoiceEmail"] == {"enabled": True, "reason": None, "autoSend": True}
    invoice = close_invoice(gql)
    [sent] = wait_for(gql, invoice["id"], 1)
    assert (sent["kind"], sent["recipient"], sent["attempts"]) == ("INVOICE", "ap@client.test", 1)
    assert sent["requestedBy"] is None
    [received] = sink.received
    assert invoice["number"] in str(received.message["Subject"])
    [pdf] = list(received.message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"

    again = gql.data(SEND, id=invoice["id"])["sendInvoice"]
    assert again["__typename"] == "ConflictError"
    assert "resend" in again["message"]
    resent = gql.data(RESEND, id=invoice["id"])["resendInvoice"]
    assert resent["__typename"] == "SendInvoiceSuccess"
    assert resent["delivery"]["status"] == "PENDING"
    history = wait_for(gql, invoice["id"], 2)
    assert history[0]["requestedBy"] is not None  # the owner who asked
    assert len(sink.received) == 2
    assert gql.data(OVERDUE)["overdueInvoices"] == []  # due in 30 days

    secret = gql.data(PORTAL, id=invoice["clientId"])["createPortalToken"]["secret"]
    portal = gql.as_token(secret)
    seen = portal.data(HISTORY, id=invoice["id"])["invoiceDeliveries"]
    assert len(seen) == 2
    assert all(d["requestedBy"] is None for d in seen)  # staff names stay with staff
    refused = portal.run(RESEND, id=invoice["id"])
    assert refused["data"] is None


@pytest.mark.parametrize("gateway", [True], indirect=True)
def test_a_client_without_billing_email_shows_it(gateway: tuple[Gql, SmtpSink | None]) -> None:
    gql, sink = gateway
    invoice = close_invoice(gql, email=None)
    [record] = gql.data(HISTORY, id=invoice["id"])["invoiceDeliveries"]
    assert (record["status"], record["recipient"]) == ("NO_BILLING_EMAIL", None)
    assert sink is not None
    assert sink.received == []


@pytest.mark.parametrize("gateway", [False], indirect=True)
def test_without_smtp_the_api_says_so(gateway: tuple[Gql, SmtpSink | None]) -> None:
    gql, _ = gateway
    status = gql.data(STATUS)["invoiceEmail"]
    assert status["enabled"] is False
    assert "BIZGRAPH_SMTP_HOST" in status["reason"]
    invoice = close_invoice(gql)
    assert gql.data(HISTORY, id=invoice["id"])["invoiceDeliveries"] == []
    refused = gql.data(SEND, id=invoice["id"])["sendInvoice"]
    assert (refused["__typename"], refused["code"]) == ("ConflictError", "email_not_configured")
