"""Clients billed in their own currency over HTTP (docs/currencies.md), on a gateway of their
own (closing touches every client): calls made with the official openai SDK by a EUR and a JPY
client on USD prices; without a rate the overview says which rate is missing and closing
refuses that client with an alert; rates set by GraphQL (typed errors, roles); the EUR
invoice's lines equal tokens x USD price x the rate, rounded once; the JPY invoice has no minor
units; the overview in the reporting currency is the clients' figures at the stated rates.
Without a rate the overview lists the EUR and JPY clients apart (the USD one keeps its row)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import openai
import pytest
import pytest_asyncio

from tests.api.conftest import BACKENDS, Gateway, own_gateway
from tests.api.graphql_support import Gql, create_client, issue_key, owner, staff
from tests.api.test_invoices_api import download, portal

IN_PRICE, OUT_PRICE = Decimal("12345.678901"), Decimal("23456.789012")
PRICE = f"""
mutation {{ setModelPrice(input: {{model: "demo/chat", provider: "demo",
  inputPerMillion: "{IN_PRICE}", outputPerMillion: "{OUT_PRICE}"}}) {{ __typename }} }}"""
SET = """
mutation($base: String!, $quote: String!, $rate: Decimal!, $on: Date!) {
  setExchangeRate(base: $base, quote: $quote, rate: $rate, effectiveOn: $on, source: "test") {
    __typename
    ... on ExchangeRateSuccess { rate { base quote rate effectiveOn source } }
    ... on ValidationError { message code } } }"""
RATES = "query { exchangeRates { base quote rate effectiveOn } }"
CLOSE = """
mutation($period: String!) { closePeriod(period: $period, early: true) {
  ... on ClosePeriodSuccess { invoices { id clientId currency htmlUrl
      subtotal { amount currency } total { amount }
      lines { kind inputTokens outputTokens amount { amount currency } exactAmount
              sourceAmount { amount currency } }
      exchangeRates { base quote rate effectiveOn } }
    refused { clientId reason } } } }"""
OVERVIEW = """
query($period: String) { overview(period: $period) {
  rows { client { id currency } revenue { amount currency } cost { amount } profit { amount } }
  inReportingCurrency { currency revenue { amount currency } cost { amount } profit { amount }
    rates { base quote rate effectiveOn } problem } } }"""
UNPRICED = """
query($period: String) { overview(period: $period) {
  requests revenue { amount } cost { amount } profit { amount } margin
  rows { client { id } revenue { amount currency } }
  unpriced { client { id name } reason base quote day requests }
  inReportingCurrency { problem } } }"""
PORTAL_OVERVIEW = """
query($period: String) { overview(period: $period) {
  rows { client { id } } unpriced { client { id } reason } } }"""
CLIENT_USAGE = """
query($id: ID!, $period: String) { client(id: $id) { usage(period: $period) {
  revenue { amount } } } }"""
ALERTS = "query { alerts { kind message } }"
CURRENCY = """
mutation($id: ID!, $currency: String!) { setClientCurrency(clientId: $id, currency: $currency) {
  __typename ... on ClientSuccess { client { currency } }
  ... on ConflictError { message } ... on ValidationError { message } } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with own_gateway(request.param, tmp_path_factory) as running:
        yield running


def calls(gateway: Gateway, secret: str, n: int) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=secret, max_retries=0)
    try:
        for i in range(n):
            answer = client.chat.completions.create(
                model="demo/chat", messages=[{"role": "user", "content": f"hello {i}"}]
            )
            assert answer.usage is not None
    finally:
        client.close()


def rounded(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


@pytest.mark.asyncio(loop_scope="session")
async def test_eur_and_jpy_clients_on_usd_prices(gateway: Gateway) -> None:
    gql = owner(gateway)
    assert gql.data(PRICE)["setModelPrice"]["__typename"] == "SetModelPriceSuccess"
    now = datetime.now(UTC)
    today, period = now.date().isoformat(), now.strftime("%Y-%m")
    first = now.replace(day=1).date().isoformat()
    euro = create_client(gql, "Berlin", {"percentageMargin": {"percent": "12.5"}}, currency="EUR")
    yen = create_client(gql, "Tokyo", {"percentageMargin": {"percent": "0"}}, currency="JPY")
    dollar = create_client(gql, "Boston", {"percentageMargin": {"percent": "0"}})
    calls(gateway, issue_key(gql, euro), 3)  # served and metered in USD, no rate yet
    calls(gateway, issue_key(gql, yen), 2)
    calls(gateway, issue_key(gql, dollar), 1)

    # No rate: a clear message where the figure is needed, never a silent 1.0; the overview
    # still gives the others' figures, lists the two apart, and adds nothing up.
    missing = gql.data(UNPRICED, period=period)["overview"]
    assert [r["client"]["id"] for r in missing["rows"]] == [dollar]
    assert missing["rows"][0]["revenue"]["currency"] == "USD"
    assert [
        (u["client"]["id"], u["base"], u["quote"], u["day"], u["requests"])
        for u in missing["unpriced"]
    ] == [
        (euro, "USD", "EUR", today, 3),
        (yen, "USD", "JPY", today, 2),
    ]
    assert missing["unpriced"][0]["reason"].startswith(
        f"no exchange rate USD->EUR in force on {today}"
    )
    assert [missing[k] for k in ("revenue", "cost", "profit", "margin")] == [None] * 4
    assert missing["requests"] == 6
    assert "no exchange rate USD->JPY" in missing["inReportingCurrency"]["problem"]
    euro_usage = gql.run(CLIENT_USAGE, id=euro, period=period)  # its own figures: the rate
    assert "no exchange rate USD->EUR" in euro_usage["errors"][0]["message"]
    mine = portal(gql, euro).data(PORTAL_OVERVIEW, period=period)["overview"]
    assert mine["rows"] == []
    assert [u["client"]["id"] for u in mine["unpriced"]] == [euro]
    refused = gql.data(CLOSE, period=period)["closePeriod"]
    assert [i["clientId"] for i in refused["invoices"]] == [dollar]
    assert {r["clientId"] for r in refused["refused"]} == {euro, yen}
    alerts = gql.data(ALERTS)["alerts"]
    assert any("no exchange rate USD->EUR" in a["message"] for a in alerts)

    bad = gql.data(SET, base="USD", quote="EUR", rate="-1", on=today)["setExchangeRate"]
    assert bad["__typename"] == "ValidationError"
    bad = gql.data(SET, base="USD", quote="EURO", rate="0.9", on=today)["setExchangeRate"]
    assert "ISO 4217" in bad["message"]
    viewer = staff(gateway, "VIEWER")
    assert viewer.run(SET, base="USD", quote="EUR", rate="0.9", on=today)["data"] is None
    assert portal(gql, euro).run(RATES)["data"] is None  # staff only
    eur = Decimal("0.923456789012")
    jpy = Decimal("151.123456")
    for base, quote, rate, on in [
        ("USD", "EUR", eur, today),
        ("USD", "JPY", jpy, today),
        ("EUR", "USD", "1.08", first),
        ("JPY", "USD", "0.0066", first),
    ]:
        done = gql.data(SET, base=base, quote=quote, rate=str(rate), on=on)["setExchangeRate"]
        assert done["__typename"] == "ExchangeRateSuccess", done
    assert len(viewer.data(RATES)["exchangeRates"]) == 4
    changed = gql.data(CURRENCY, id=euro, currency="GBP")["setClientCurrency"]
    assert changed["__typename"] == "ConflictError"  # it has usage on its books

    closed = gql.data(CLOSE, period=period)["closePeriod"]
    assert closed["refused"] == []
    by_client = {i["clientId"]: i for i in closed["invoices"]}
    with localcontext() as wide:
        wide.prec = 80
        for client, rate, margin, places, currency in [
            (euro, eur, Decimal("1.125"), 2, "EUR"),
            (yen, jpy, Decimal(1), 0, "JPY"),
        ]:
            invoice = by_client[client]
            assert invoice["currency"] == currency
            assert invoice["exchangeRates"] == [
                {"base": "USD", "quote": currency, "rate": str(rate), "effectiveOn": today}
            ]
            [line] = invoice["lines"]
            usd = (
                Decimal(line["inputTokens"]) * IN_PRICE + Decimal(line["outputTokens"]) * OUT_PRICE
            ) / Decimal(1_000_000)
            exact = usd * margin * rate
            assert Decimal(line["exactAmount"]) == exact
            assert line["amount"] == {"amount": str(rounded(exact, places)), "currency": currency}
            assert Decimal(line["sourceAmount"]["amount"]) == usd * margin
            assert line["sourceAmount"]["currency"] == "USD"
    assert "." not in by_client[yen]["total"]["amount"]  # no minor units
    page = download(gateway, by_client[euro]["htmlUrl"], gql.token).text
    assert f"1 USD = {eur} EUR, in force from {today}" in page

    overview = gql.data(OVERVIEW, period=period)["overview"]
    reporting = overview["inReportingCurrency"]
    assert reporting["problem"] is None
    to_usd = {"EUR": Decimal("1.08"), "JPY": Decimal("0.0066"), "USD": Decimal(1)}
    expected = Decimal(0)
    for row in overview["rows"]:
        expected += Decimal(row["revenue"]["amount"]) * to_usd[row["client"]["currency"]]
    assert Decimal(reporting["revenue"]["amount"]) == expected
    assert reporting["currency"] == "USD"
    assert {(r["base"], r["effectiveOn"]) for r in reporting["rates"]} == {
        ("EUR", first),
        ("JPY", first),
    }


SET_BUDGET = """
mutation($id: ID!, $limit: Decimal!) { setBudget(clientId: $id, input: {limit: $limit}) {
  __typename ... on SetBudgetSuccess { budget { limit { amount currency } } } } }"""
SPENT = "query($id: ID!) { client(id: $id) { budget { spent { amount currency } } } }"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_hard_budget_in_gbp_refuses_usd_priced_calls_until_a_rate_exists(
    gateway: Gateway,
) -> None:
    gql = owner(gateway)
    assert gql.data(PRICE)["setModelPrice"]["__typename"] == "SetModelPriceSuccess"
    london = create_client(gql, "London", {"percentageMargin": {"percent": "0"}}, currency="GBP")
    limited = gql.data(SET_BUDGET, id=london, limit="1000")["setBudget"]
    assert limited["budget"]["limit"] == {"amount": "1000", "currency": "GBP"}
    secret = issue_key(gql, london)
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=secret, max_retries=0)
    try:
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(
                model="demo/chat", messages=[{"role": "user", "content": "hi"}]
            )
        assert refused.value.code == "insufficient_quota"
        assert "no exchange rate USD->GBP" in refused.value.message
        today = datetime.now(UTC).date().isoformat()
        rate = Decimal("0.79")
        done = gql.data(SET, base="USD", quote="GBP", rate=str(rate), on=today)
        assert done["setExchangeRate"]["__typename"] == "ExchangeRateSuccess"
        answer = client.chat.completions.create(
            model="demo/chat", messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.usage is not None
    finally:
        client.close()
    spent = gql.data(SPENT, id=london)["client"]["budget"]["spent"]
    usd = (
        Decimal(answer.usage.prompt_tokens) * IN_PRICE
        + Decimal(answer.usage.completion_tokens) * OUT_PRICE
    ) / Decimal(1_000_000)
    with localcontext() as wide:
        wide.prec = 80
        assert spent == {"amount": str(usd * rate), "currency": "GBP"}


SOFT_BUDGET = """
mutation($id: ID!) { setBudget(clientId: $id, input: {limit: "500", mode: SOFT}) {
  __typename } }"""
AGENCY_ALERTS = """query { alerts(first: 200) { kind message details { name value } } }"""


@pytest.mark.asyncio(loop_scope="session")
async def test_a_soft_budget_without_a_rate_lets_calls_pass_and_says_so_once_a_day(
    gateway: Gateway,
) -> None:
    """A soft budget in CHF on USD prices with no USD->CHF rate: the calls pass uncounted and
    the agency gets one alert for the day (not one per call); with a rate they count."""
    gql = owner(gateway)
    assert gql.data(PRICE)["setModelPrice"]["__typename"] == "SetModelPriceSuccess"
    zurich = create_client(gql, "Zurich", {"percentageMargin": {"percent": "0"}}, currency="CHF")
    assert gql.data(SOFT_BUDGET, id=zurich)["setBudget"]["__typename"] == "SetBudgetSuccess"
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=issue_key(gql, zurich))
    hello = [{"role": "user", "content": "hi"}]
    answers = []
    try:
        for _ in range(3):
            answers.append(client.chat.completions.create(model="demo/chat", messages=hello))  # type: ignore[arg-type]
        uncounted = await _alerts_of(gql, "BUDGET_UNCOUNTED", zurich)
        spent_without = gql.data(SPENT, id=zurich)["client"]["budget"]["spent"]
        today = datetime.now(UTC).date().isoformat()
        done = gql.data(SET, base="USD", quote="CHF", rate="0.88", on=today)
        assert done["setExchangeRate"]["__typename"] == "ExchangeRateSuccess"
        answers.append(client.chat.completions.create(model="demo/chat", messages=hello))  # type: ignore[arg-type]
    finally:
        client.close()

    assert len(uncounted) == 1  # three calls, one alert for the day
    assert "no USD->CHF rate: they pass, uncounted" in uncounted[0]["message"]
    assert spent_without == {"amount": "0", "currency": "CHF"}
    # The first counted call opens the budget's counter from the day's calls so far, each
    # converted at its day's rate (now there is one): all four, in CHF, to the last digit.
    usd = Decimal(0)
    for answer in answers:
        assert answer.usage is not None
        tokens = answer.usage.prompt_tokens * IN_PRICE + answer.usage.completion_tokens * OUT_PRICE
        usd += tokens / Decimal(1_000_000)
    spent = gql.data(SPENT, id=zurich)["client"]["budget"]["spent"]
    with localcontext() as wide:
        wide.prec = 80
        assert Decimal(spent["amount"]) == usd * Decimal("0.88")
    assert spent["currency"] == "CHF"
    assert len(await _alerts_of(gql, "BUDGET_UNCOUNTED", zurich)) == 1


async def _alerts_of(gql: Gql, kind: str, client_id: str) -> list[dict[str, Any]]:
    """The agency's alerts of that kind about the client, once the call's deferred writes
    (they ride the next batch) are in."""
    for _ in range(100):
        found = [
            a
            for a in gql.data(AGENCY_ALERTS)["alerts"]
            if a["kind"] == kind and {"name": "client_id", "value": client_id} in a["details"]
        ]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []
