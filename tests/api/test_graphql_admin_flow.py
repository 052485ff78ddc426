"""The whole admin flow over HTTP, as a script would drive it: staff token, a client per plan,
keys, calls through the gateway with the openai SDK, then cost, revenue and profit read back
over GraphQL and compared with Decimals computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.api.conftest import Gateway, Sdks
from tests.api.graphql_support import create_client, issue_key, staff

# demo/chat in the bundled catalog, per million tokens.
INPUT_PRICE, OUTPUT_PRICE = Decimal("0.50"), Decimal("1.50")
MILLION = Decimal(1_000_000)

USAGE = """
query($id: ID!, $period: String) {
  client(id: $id) {
    id
    pricing {
      __typename
      ... on PercentageMargin { percent }
      ... on FixedFee { monthlyFee { amount currency } }
      ... on FixedPrice { monthlyPrice { amount currency } }
    }
    pricingHistory { id }
    apiKeys { id prefix }
    usage(period: $period) {
      period requests inputTokens cachedInputTokens cacheWriteTokens outputTokens
      reasoningTokens
      cost { amount currency } charge { amount currency }
      revenue { amount currency } profit { amount currency } margin
      byModel { model requests inputTokens outputTokens cost { amount } charge { amount } }
      series(bucket: DAY) { start requests charge { amount } }
    }
  }
}"""

OVERVIEW = """
query($period: String) {
  overview(period: $period) {
    period
    rows { client { id } requests cost { amount } revenue { amount } profit { amount } margin }
  }
}"""


def amount(money: dict[str, Any]) -> Decimal:
    return Decimal(money["amount"])


def test_admin_flow_figures_match_hand_computed_decimals(gateway: Gateway, sdks: Sdks) -> None:
    admin = staff(gateway, "ADMIN")
    start = datetime.now(UTC)
    month_start = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    period = f"{start.year:04d}-{start.month:02d}"
    plans = {
        "margin": ({"percentageMargin": {"percent": "30"}}, "PercentageMargin"),
        "fee": ({"fixedFee": {"monthlyFee": "100.00"}}, "FixedFee"),
        "price": ({"fixedPrice": {"monthlyPrice": "500"}}, "FixedPrice"),
    }
    ids, costs, tokens = {}, {}, {}
    for name, (pricing, _) in plans.items():
        ids[name] = create_client(
            admin, f"flow {name}", pricing, pricingEffectiveFrom=month_start.isoformat()
        )
        client = sdks.openai(issue_key(admin, ids[name]))
        cost, prompt, completion = Decimal(0), 0, 0
        for i in range(2 + len(name)):
            answer = client.chat.completions.create(
                model="demo/chat",
                messages=[{"role": "user", "content": f"hello {name} " * (i + 1)}],
            )
            assert answer.usage is not None
            prompt += answer.usage.prompt_tokens
            completion += answer.usage.completion_tokens
            cost += (
                answer.usage.prompt_tokens * INPUT_PRICE
                + answer.usage.completion_tokens * OUTPUT_PRICE
            ) / MILLION
        costs[name], tokens[name] = cost, (2 + len(name), prompt, completion)

    expected_revenue = {
        "margin": costs["margin"] * Decimal("1.3"),
        "fee": costs["fee"] + Decimal(100),
        "price": Decimal(500),
    }
    expected_charge = {"margin": costs["margin"] * Decimal("1.3"), "fee": costs["fee"]}
    for name, (_, plan_type) in plans.items():
        client = admin.data(USAGE, id=ids[name], period=period)["client"]
        usage = client["usage"]
        requests, prompt, completion = tokens[name]
        assert client["pricing"]["__typename"] == plan_type
        assert len(client["pricingHistory"]) == 1
        assert len(client["apiKeys"]) == 1
        assert usage["period"] == period
        assert (usage["requests"], usage["inputTokens"], usage["outputTokens"]) == (
            requests,
            prompt,
            completion,
        )
        assert usage["cachedInputTokens"] == usage["reasoningTokens"] == 0
        assert amount(usage["cost"]) == costs[name]
        assert usage["cost"]["currency"] == "USD"
        assert amount(usage["charge"]) == expected_charge.get(name, Decimal(0))
        assert amount(usage["revenue"]) == expected_revenue[name]
        assert amount(usage["profit"]) == expected_revenue[name] - costs[name]
        assert usage["byModel"] == [
            {
                "model": "demo/chat",
                "requests": requests,
                "inputTokens": prompt,
                "outputTokens": completion,
                "cost": {"amount": usage["cost"]["amount"]},
                "charge": {"amount": usage["charge"]["amount"]},
            }
        ]
        assert sum(point["requests"] for point in usage["series"]) == requests

    rows = {
        row["client"]["id"]: row for row in admin.data(OVERVIEW, period=period)["overview"]["rows"]
    }
    for name, client_id in ids.items():
        row = rows[client_id]
        assert amount(row["revenue"]) == expected_revenue[name]
        assert amount(row["cost"]) == costs[name]
        assert amount(row["profit"]) == expected_revenue[name] - costs[name]
        assert Decimal(row["margin"]) == (
            (expected_revenue[name] - costs[name]) / expected_revenue[name]
        ).quantize(Decimal("0.000001"))
