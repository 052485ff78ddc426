"""Tax and billing details over GraphQL on a gateway of their own (closing touches every
client): typed validation errors, roles (owners and admins change, viewers read, a portal
token sees only its own billing details), a reverse-charge invoice closed with its note and
both tax ids on the HTML download, and the owners' accounting export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from tests.api.conftest import BACKENDS, Gateway, own_gateway
from tests.api.graphql_support import create_client, issue_key, owner, staff
from tests.api.test_invoices_api import CLOSE, PRICE, chat, download, portal

SET_RATE = """
mutation($country: String!, $region: String!, $percent: Decimal!, $from: Date!) {
  setTaxRate(country: $country, region: $region, percent: $percent, effectiveFrom: $from) {
    __typename
    ... on TaxRateSuccess { rate { country region percent effectiveFrom } }
    ... on ValidationError { message code }
  }
}"""
RATES = "query { taxRates { country region percent effectiveFrom } }"
CLIENT_TAX_FIELDS = """
  clientId treatment customRate exemptReason
  billingDetails { legalName taxId poReference
    address { lines city postalCode region country } }
"""
TAX_RESULT = f"""
  __typename
  ... on ClientTaxSuccess {{ clientTax {{ {CLIENT_TAX_FIELDS} }} }}
  ... on ValidationError {{ message code }}
  ... on NotFoundError {{ message code }}
"""
TREATMENT = f"""
mutation($id: ID!, $treatment: TaxTreatment!, $reason: String) {{
  setClientTaxTreatment(clientId: $id, treatment: $treatment, exemptReason: $reason) {{
    {TAX_RESULT} }} }}"""
DETAILS = f"""
mutation($id: ID!, $details: BillingDetailsInput!) {{
  setClientBillingDetails(clientId: $id, details: $details) {{ {TAX_RESULT} }} }}"""
CLIENT_TAX = f"query($id: ID!) {{ clientTax(clientId: $id) {{ {CLIENT_TAX_FIELDS} }} }}"
AGENCY = """
mutation($profile: AgencyProfileInput!) { setAgencyProfile(profile: $profile) {
  __typename
  ... on AgencyProfileSuccess { agencyProfile { legalName taxId paymentTermsDays } }
  ... on ValidationError { message code } } }"""
EXPORT = """
query($period: String!, $journal: AccountingJournal!) {
  accountingExport(period: $period, journal: $journal) { filename csv entries balanced } }"""
INVOICES = """query($id: ID) { invoices(clientId: $id) { id taxTreatment taxNote tax { amount }
  htmlUrl billTo { legalName taxId poReference } issuer { legalName taxId } } }"""

CLOSE_REFUSED = """
mutation($period: String!) { closePeriod(period: $period, early: true) {
  ... on ClosePeriodSuccess { invoices { id } refused { clientId reason } } } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def taxed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with own_gateway(request.param, tmp_path_factory) as running:
        yield running


def details(tax_id: str | None, country: str = "GB") -> dict[str, object]:
    return {
        "legalName": "London Client Ltd",
        "address": {
            "lines": ["1 High St"],
            "city": "London",
            "postalCode": "EC1A 1BB",
            "country": country,
        },
        "taxId": tax_id,
        "poReference": "PO-77",
    }


@pytest.mark.asyncio(loop_scope="session")
async def test_tax_and_billing_details_over_graphql(taxed: Gateway) -> None:
    gql = owner(taxed)
    viewer = staff(taxed, "VIEWER")
    admin = staff(taxed, "ADMIN")
    bad = gql.data(SET_RATE, country="Germany", region="", percent="19", **{"from": "2021-01-01"})
    assert bad["setTaxRate"]["code"] == "validation_error"
    assert "two-letter" in bad["setTaxRate"]["message"]
    too_high = gql.data(SET_RATE, country="DE", region="", percent="120", **{"from": "2021-01-01"})
    assert too_high["setTaxRate"]["__typename"] == "ValidationError"
    good = gql.data(SET_RATE, country="de", region="", percent="19", **{"from": "2021-01-01"})
    assert good["setTaxRate"]["rate"] == {
        "country": "DE",
        "region": "",
        "percent": "19",
        "effectiveFrom": "2021-01-01",
    }
    assert viewer.data(RATES)["taxRates"] == [good["setTaxRate"]["rate"]]
    refused = viewer.run(SET_RATE, country="FR", region="", percent="20", **{"from": "2021-01-01"})
    assert refused["data"] is None
    assert "not allowed" in refused["errors"][0]["message"]

    assert gql.data(PRICE)["setModelPrice"]["__typename"] == "SetModelPriceSuccess"
    client = create_client(gql, "London", {"percentageMargin": {"percent": "0"}}, taxRate="20")
    other = create_client(gql, "Other", {"percentageMargin": {"percent": "0"}}, taxRate="10")
    needs_id = gql.data(TREATMENT, id=client, treatment="REVERSE_CHARGE")["setClientTaxTreatment"]
    assert needs_id["__typename"] == "ValidationError"
    assert "tax id" in needs_id["message"]
    bad_id = gql.data(DETAILS, id=client, details=details("GB<1>"))["setClientBillingDetails"]
    assert bad_id["__typename"] == "ValidationError"
    missing = gql.data(DETAILS, id="nobody", details=details("GB1"))["setClientBillingDetails"]
    assert missing["__typename"] == "NotFoundError"
    saved = admin.data(DETAILS, id=client, details=details("GB987654321"))
    assert saved["setClientBillingDetails"]["clientTax"]["billingDetails"]["taxId"] == "GB987654321"
    done = gql.data(TREATMENT, id=client, treatment="REVERSE_CHARGE")["setClientTaxTreatment"]
    assert done["clientTax"]["treatment"] == "REVERSE_CHARGE"
    exempt = gql.data(TREATMENT, id=other, treatment="EXEMPT")["setClientTaxTreatment"]
    assert exempt["__typename"] == "ValidationError"
    assert viewer.run(TREATMENT, id=other, treatment="CUSTOM")["data"] is None
    profile = {
        "legalName": "Berlin Agency GmbH",
        "address": {
            "lines": ["Hauptstr. 1"],
            "city": "Berlin",
            "postalCode": "10115",
            "country": "DE",
        },
        "taxId": "DE123456789",
        "bankDetails": "IBAN DE89 3704 0044 0532 0130 00",
        "paymentTermsDays": 14,
        "paymentTermsText": "Net 14",
    }
    assert (
        gql.data(AGENCY, profile={**profile, "paymentTermsDays": 999})["setAgencyProfile"][
            "__typename"
        ]
        == "ValidationError"
    )
    assert gql.data(AGENCY, profile=profile)["setAgencyProfile"]["agencyProfile"]["taxId"] == (
        "DE123456789"
    )

    own = portal(gql, client)
    assert own.data(CLIENT_TAX, id=client)["clientTax"]["billingDetails"]["legalName"] == (
        "London Client Ltd"
    )
    assert own.data(CLIENT_TAX, id=other)["clientTax"] is None
    assert own.run(RATES)["data"] is None  # staff only

    chat(taxed, issue_key(gql, client), 2)
    period = datetime.now(UTC).strftime("%Y-%m")
    closed = gql.data(CLOSE, period=period, early=True)["closePeriod"]
    assert closed["__typename"] == "ClosePeriodSuccess"
    [invoice] = gql.data(INVOICES, id=client)["invoices"]
    assert (invoice["taxTreatment"], invoice["taxNote"], invoice["tax"]["amount"]) == (
        "REVERSE_CHARGE",
        "Reverse charge",
        "0.00",
    )
    assert invoice["billTo"] == {
        "legalName": "London Client Ltd",
        "taxId": "GB987654321",
        "poReference": "PO-77",
    }
    assert invoice["issuer"] == {"legalName": "Berlin Agency GmbH", "taxId": "DE123456789"}
    page = download(taxed, invoice["htmlUrl"], own.token).text
    for text in ("Reverse charge", "GB987654321", "DE123456789", "Berlin Agency GmbH", "Net 14"):
        assert text in page

    export = gql.data(EXPORT, period=period, journal="INVOICES")["accountingExport"]
    assert export["balanced"] is True
    assert export["entries"] == 1
    rows = list(csv.DictReader(io.StringIO(export["csv"])))
    assert {row["tax_code"] for row in rows} == {"RC"}
    assert {row["client_tax_id"] for row in rows} == {"GB987654321"}
    ledger = gql.data(EXPORT, period=period, journal="LEDGER")["accountingExport"]
    assert ledger["balanced"] is True
    assert admin.run(EXPORT, period=period, journal="INVOICES")["data"] is None  # owners only
    fetched = download(taxed, f"/exports/invoices/{period}.csv", gql.token)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("text/csv")
    assert fetched.text == export["csv"]
    assert download(taxed, f"/exports/ledger/{period}.csv", gql.token).text == ledger["csv"]
    assert download(taxed, f"/exports/invoices/{period}.csv", admin.token).status_code == 403
    assert download(taxed, f"/exports/invoices/{period}.csv", None).status_code == 401
    assert download(taxed, "/exports/invoices/2026-13.csv", gql.token).status_code == 400
    assert download(taxed, f"/exports/other/{period}.csv", gql.token).status_code == 404
    lost = create_client(gql, "No rate", {"percentageMargin": {"percent": "0"}})
    assert (
        gql.data(DETAILS, id=lost, details=details(None, "FR"))["setClientBillingDetails"][
            "__typename"
        ]
        == "ClientTaxSuccess"
    )
    assert (
        gql.data(TREATMENT, id=lost, treatment="STANDARD")["setClientTaxTreatment"]["__typename"]
        == "ClientTaxSuccess"
    )
    chat(taxed, issue_key(gql, lost), 1)
    again = gql.data(CLOSE_REFUSED, period=period)["closePeriod"]
    assert again["invoices"] == []
    assert [(r["clientId"], r["reason"][:18]) for r in again["refused"]] == [
        (lost, "no tax rate for FR")
    ]
