"""Settling an estimated call over GraphQL, end to end on SQLite and PostgreSQL: a stream the
provider cut short (through the official openai SDK) is billed on an estimate; `callsToSettle`
lists it; an owner settles it at the provider's tokens with `settleEstimatedCall`, billing the
shortfall, and the client's draft invoice gets that line, recomputed here to the cent; a second
settlement is a typed conflict, impossible tokens a typed validation error; a viewer may read
but not settle, and a portal token may do neither."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openai

from domain.billing.money import round_to_minor
from domain.billing.plans import PercentageMargin
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord, UsageSource
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.api.graphql_support import owner, staff

CALLS = """query($from: String!, $to: String!) {
  callsToSettle(from: $from, to: $to) {
    usageRecordId clientId model estimated { input output } charge { amount currency }
    settlement { outcome amount { amount currency } settledBy reason actual { input output } }
  }
}"""
SETTLE = """mutation($id: ID!, $tokens: SettledTokensInput!, $reason: String!, $bill: Boolean!) {
  settleEstimatedCall(usageRecordId: $id, tokens: $tokens, reason: $reason,
                      billShortfall: $bill) {
    __typename
    ... on SettleEstimatedCallSuccess { settlement { outcome amount { amount currency } } }
    ... on ConflictError { message }
    ... on ValidationError { message }
    ... on NotFoundError { message }
  }
}"""
DRAFT = """query($id: ID!, $period: String!) {
  draftInvoice(clientId: $id, period: $period) { lines { kind amount { amount } } }
}"""
MARGIN = Decimal(30)  # the test client's plan (tests/api/conftest.py)


async def _estimated(admin: Admin, client_id: str) -> UsageRecord:
    for _ in range(100):
        records = await admin.usage(client_id)
        if records:
            [record] = records
            return record
        await asyncio.sleep(0.1)
    raise AssertionError("the cut stream was never settled")


async def _expected(admin: Admin, record: UsageRecord, actual: TokenUsage) -> Decimal:
    """The charge difference recomputed from the catalog's price and the plan, rounded once."""
    async with admin.container.uow()() as uow:
        history = await uow.catalog.prices(record.model_id)
    [price] = [v for v in history.versions if v.id == record.price_version_id]
    charge = PercentageMargin(MARGIN).charge(price.cost(actual))
    return round_to_minor(charge.amount - record.charge.amount, "USD")


async def test_a_cut_stream_is_settled_and_billed_on_the_draft(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    script = upstreams.openai
    script.reply, script.break_after, script.usage = "word " * 50, 3, None
    try:
        for _ in sdks.openai(secret).chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "Hello"}],
            stream=True,
            max_tokens=2,
        ):
            pass
    except openai.APIError:
        pass
    record = await _estimated(admin, client_id)
    assert record.source is UsageSource.ESTIMATED
    today = datetime.now(UTC).date()
    days = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    gql, viewer = owner(gateway), staff(gateway, "VIEWER")
    actual = TokenUsage(input_tokens=9, output_tokens=250_000)
    variables = {
        "id": record.id,
        "tokens": {"input": 9, "output": 250_000},
        "reason": "OpenAI usage API, hour of the call",
        "bill": True,
    }

    listed = [c for c in viewer.data(CALLS, **days)["callsToSettle"] if c["clientId"] == client_id]
    refused = viewer.run(SETTLE, **variables)
    settled = gql.data(SETTLE, **variables)["settleEstimatedCall"]
    again = gql.data(SETTLE, **variables)["settleEstimatedCall"]
    after = [c for c in gql.data(CALLS, **days)["callsToSettle"] if c["clientId"] == client_id]
    draft = gql.data(DRAFT, id=client_id, period=today.strftime("%Y-%m"))["draftInvoice"]

    assert [c["usageRecordId"] for c in listed] == [record.id]
    assert listed[0]["settlement"] is None
    assert listed[0]["estimated"]["output"] == record.usage.output_tokens
    assert refused["data"] is None
    assert "may not change" in refused["errors"][0]["message"]
    expected = await _expected(admin, record, actual)
    assert expected > 0
    assert settled == {
        "__typename": "SettleEstimatedCallSuccess",
        "settlement": {"outcome": "BILLED", "amount": {"amount": str(expected), "currency": "USD"}},
    }
    assert again["__typename"] == "ConflictError"
    assert after[0]["settlement"]["settledBy"] == "bootstrap owner"
    assert after[0]["settlement"]["actual"] == {"input": 9, "output": 250_000}
    lines = [line for line in draft["lines"] if line["kind"] == "SETTLEMENT"]
    assert lines == [{"kind": "SETTLEMENT", "amount": {"amount": str(expected)}}]


async def test_bad_input_is_a_typed_error_and_portal_tokens_are_refused(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, _ = await admin.client_with_key()
    gql = owner(gateway)
    created = gql.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]
    portal = gql.as_token(created["secret"])
    base = {"id": "no-such-record", "reason": "report", "bill": False}

    impossible = gql.data(SETTLE, **base, tokens={"input": 10, "output": 1, "cachedInput": 11})[
        "settleEstimatedCall"
    ]
    negative = gql.data(SETTLE, **base, tokens={"input": -1, "output": 1})["settleEstimatedCall"]
    unknown = gql.data(SETTLE, **base, tokens={"input": 1, "output": 1})["settleEstimatedCall"]
    listed = portal.run(CALLS, **{"from": "2026-11-01", "to": "2026-11-02"})
    settling = portal.run(SETTLE, **base, tokens={"input": 1, "output": 1})
    wide = gql.run(CALLS, **{"from": "2020-01-01", "to": "2026-11-02"})

    assert impossible["__typename"] == "ValidationError"
    assert "cached" in impossible["message"]
    assert negative["__typename"] == "ValidationError"
    assert unknown["__typename"] == "NotFoundError"
    assert listed["data"] is None
    assert "staff" in listed["errors"][0]["message"]
    assert settling["data"] is None
    assert wide["data"] is None
    assert "at most" in wide["errors"][0]["message"]
