"""Invoicing over HTTP on its own gateway (closing touches every client, so it gets a database
of its own): closePeriod, the invoices queries and their portal isolation, voids, payments,
credit notes, downloads (HTML escaped, a PDF that pypdf reads, the usage CSV), and the
overview's revenue of a closed period equal to its invoices."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pypdf import PdfReader

from api.settings_sections import InvoiceSettings
from tests.api.conftest import ADMIN_TOKEN, BACKENDS, Gateway, own_gateway
from tests.api.graphql_support import Gql, create_client, issue_key, owner, staff

NASTY = '<script>alert("x")</script> & Co'

INVOICE_FIELDS = """
  id clientId number period status currency early billToName billToEmail
  subtotal { amount currency } tax { amount } total { amount } taxRate
  issuedAt dueAt htmlUrl pdfUrl csvUrl voidReason
  lines { position kind description modelId usagePeriod requests inputTokens outputTokens
          amount { amount currency } exactAmount }
  creditNotes { number amount { amount } reason }
"""
CLOSE = f"""
mutation($period: String!, $early: Boolean!) {{
  closePeriod(period: $period, early: $early) {{
    __typename
    ... on ClosePeriodSuccess {{ period invoices {{ {INVOICE_FIELDS} }} }}
    ... on ValidationError {{ message code }}
  }}
}}"""
LIST = f"""
query($clientId: ID, $period: String, $status: InvoiceStatus) {{
  invoices(clientId: $clientId, period: $period, status: $status) {{ {INVOICE_FIELDS} }}
}}"""
ONE = f"query($id: ID!) {{ invoice(id: $id) {{ {INVOICE_FIELDS} }} }}"
RESULT = f"""
  __typename
  ... on InvoiceSuccess {{ invoice {{ {INVOICE_FIELDS} }} }}
  ... on ValidationError {{ message code }}
  ... on NotFoundError {{ message code }}
  ... on ConflictError {{ message code }}
"""
PAY = f"mutation($id: ID!) {{ markInvoicePaid(id: $id) {{ {RESULT} }} }}"
VOID = f"mutation($id: ID!, $reason: String!) {{ voidInvoice(id: $id, reason: $reason) {{ {RESULT} }} }}"
CREDIT = """
mutation($id: ID!, $amount: Decimal!, $reason: String!) {
  issueCreditNote(invoiceId: $id, amount: $amount, reason: $reason) {
    __typename
    ... on IssueCreditNoteSuccess { creditNote { number amount { amount } } invoice { id } }
    ... on ValidationError { message code }
    ... on NotFoundError { message code }
    ... on ConflictError { message code }
  }
}"""
DRAFT = """
query($id: ID!, $period: String!) { draftInvoice(clientId: $id, period: $period) {
  clientId total { amount } lines { kind amount { amount } } } }"""
PORTAL = """
mutation($id: ID!) { createPortalToken(clientId: $id) {
  ... on CreatePortalTokenSuccess { secret } } }"""
PRICE = """
mutation { setModelPrice(input: {model: "demo/chat", provider: "demo",
  inputPerMillion: "12345.678901", outputPerMillion: "23456.789012"}) { __typename } }"""
OVERVIEW = """
query($period: String) { overview(period: $period) { revenue { amount }
  rows { client { id } revenue { amount } } } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def billing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with own_gateway(
        request.param,
        tmp_path_factory,
        invoices=InvoiceSettings(
            agency_name="Agency <b>One</b>",
            agency_address=("1 Main Street", "Springfield"),
            agency_logo_url="javascript:alert(1)",
        ),
    ) as running:
        yield running


def chat(gateway: Gateway, secret: str, n: int) -> None:
    for i in range(n):
        response = httpx.post(
            gateway.url + "/v1/chat/completions",
            json={"model": "demo/chat", "messages": [{"role": "user", "content": f"hi {i}"}]},
            headers={"authorization": f"Bearer {secret}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text


def portal(gql: Gql, client_id: str) -> Gql:
    secret = gql.data(PORTAL, id=client_id)["createPortalToken"]["secret"]
    return gql.as_token(secret)


def download(gateway: Gateway, path: str, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    return httpx.get(gateway.url + path, headers=headers, timeout=30)


@pytest.mark.asyncio(loop_scope="session")
async def test_invoicing_over_http(billing: Gateway) -> None:
    gql = owner(billing)
    # Prices high enough that a few demo calls cost whole cents (and odd enough to round).
    assert gql.data(PRICE)["setModelPrice"]["__typename"] == "SetModelPriceSuccess"
    margin = create_client(
        gql,
        NASTY,
        {"percentageMargin": {"percent": "30"}},
        taxRate="20",
        billingEmail="ap@client.test",
    )
    fee = create_client(gql, "Fee client", {"fixedFee": {"monthlyFee": "100"}})
    chat(billing, issue_key(gql, margin), 3)
    chat(billing, issue_key(gql, fee), 1)
    period = datetime.now(UTC).strftime("%Y-%m")

    refused = gql.data(CLOSE, period=period, early=False)["closePeriod"]
    assert refused["code"] == "period_not_ended"
    viewer = staff(billing, "VIEWER").run(CLOSE, period=period, early=True)
    assert viewer["data"] is None
    assert "not allowed" in viewer["errors"][0]["message"]

    draft = gql.data(DRAFT, id=margin, period=period)["draftInvoice"]
    assert portal(gql, fee).data(DRAFT, id=margin, period=period)["draftInvoice"] is None
    closed = gql.data(CLOSE, period=period, early=True)["closePeriod"]
    assert closed["__typename"] == "ClosePeriodSuccess"
    by_client = {i["clientId"]: i for i in closed["invoices"]}
    assert set(by_client) == {margin, fee}
    assert gql.data(CLOSE, period=period, early=True)["closePeriod"]["invoices"] == []
    mine, theirs = by_client[margin], by_client[fee]
    assert draft["total"] == mine["total"]
    assert [line["amount"]["amount"] for line in draft["lines"]] == [
        line["amount"]["amount"] for line in mine["lines"]
    ]
    assert mine["early"] is True
    assert sorted([mine["number"], theirs["number"]]) == [
        f"INV-{period[:4]}-0001",
        f"INV-{period[:4]}-0002",
    ]
    [usage_line] = mine["lines"]
    assert (usage_line["kind"], usage_line["modelId"], usage_line["requests"]) == (
        "USAGE",
        "demo/chat",
        3,
    )
    subtotal = Decimal(mine["subtotal"]["amount"])
    assert subtotal == Decimal(usage_line["amount"]["amount"])
    assert Decimal(mine["tax"]["amount"]) == (subtotal * Decimal("0.2")).quantize(Decimal("0.01"))
    assert Decimal(mine["total"]["amount"]) == subtotal + Decimal(mine["tax"]["amount"])
    assert [line["kind"] for line in theirs["lines"]] == ["USAGE", "FIXED_FEE"]

    _check_isolation(gql, mine, theirs)
    _check_downloads(billing, gql, mine, theirs)
    _check_overview(gql, period, closed["invoices"])
    _check_lifecycle(gql, mine, theirs)


def _check_isolation(gql: Gql, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert len(gql.data(LIST, period=mine["period"])["invoices"]) == 2
    own = portal(gql, mine["clientId"])
    assert [i["id"] for i in own.data(LIST)["invoices"]] == [mine["id"]]
    assert own.data(LIST, clientId=theirs["clientId"])["invoices"] == []
    assert own.data(ONE, id=theirs["id"])["invoice"] is None
    assert own.data(ONE, id=mine["id"])["invoice"]["number"] == mine["number"]
    assert own.run(PAY, id=mine["id"])["data"] is None  # a portal token changes nothing
    assert gql.data(LIST, status="PAID")["invoices"] == []


def _check_downloads(
    gateway: Gateway, gql: Gql, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    assert download(gateway, mine["htmlUrl"], None).status_code == 401
    assert download(gateway, mine["htmlUrl"], "bzs_not-a-real-token-at-all").status_code == 401
    own = portal(gql, mine["clientId"]).token
    missing = download(gateway, theirs["pdfUrl"], own)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert download(gateway, f"/invoices/{mine['id']}.exe", ADMIN_TOKEN).status_code == 404

    page = download(gateway, mine["htmlUrl"], own)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "<b>One</b>" not in page.text
    assert "javascript:" not in page.text
    assert mine["number"] in page.text
    assert mine["total"]["amount"] in page.text

    pdf = download(gateway, mine["pdfUrl"], ADMIN_TOKEN)
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert mine["number"] in text
    assert f"{mine['total']['amount']} USD" in text
    for line in mine["lines"]:
        assert f"{line['amount']['amount']} USD" in text

    sheet = download(gateway, mine["csvUrl"], own)
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert len(rows) == 3
    exact = sum((Decimal(r["charge"]) for r in rows), Decimal(0))
    assert exact == Decimal(mine["lines"][0]["exactAmount"])
    assert {r["invoice"] for r in rows} == {mine["number"]}


def _check_overview(gql: Gql, period: str, invoices: list[dict[str, Any]]) -> None:
    overview = gql.data(OVERVIEW, period=period)["overview"]
    billed = sum((Decimal(i["subtotal"]["amount"]) for i in invoices), Decimal(0))
    assert Decimal(overview["revenue"]["amount"]) == billed
    per_client = {
        row["client"]["id"]: Decimal(row["revenue"]["amount"]) for row in overview["rows"]
    }
    for invoice in invoices:
        assert per_client[invoice["clientId"]] == Decimal(invoice["subtotal"]["amount"])


def _check_lifecycle(gql: Gql, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    paid = gql.data(PAY, id=mine["id"])["markInvoicePaid"]
    assert paid["invoice"]["status"] == "PAID"
    assert gql.data(VOID, id=mine["id"], reason="late")["voidInvoice"]["code"] == "conflict"
    credit = gql.data(CREDIT, id=mine["id"], amount="0.01", reason="goodwill")["issueCreditNote"]
    assert credit["creditNote"]["number"].startswith("CN-")
    too_much = gql.data(CREDIT, id=mine["id"], amount="100000", reason="x")["issueCreditNote"]
    assert too_much["__typename"] == "ValidationError"
    blank = gql.data(VOID, id=theirs["id"], reason=" ")["voidInvoice"]
    assert blank["__typename"] == "ValidationError"
    voided = gql.data(VOID, id=theirs["id"], reason="wrong fee")["voidInvoice"]["invoice"]
    assert (voided["status"], voided["voidReason"]) == ("VOID", "wrong fee")
    unknown = gql.data(PAY, id="no-such-invoice")["markInvoicePaid"]
    assert unknown["__typename"] == "NotFoundError"
    notes = gql.data(ONE, id=mine["id"])["invoice"]["creditNotes"]
    assert [n["amount"]["amount"] for n in notes] == ["0.01"]
