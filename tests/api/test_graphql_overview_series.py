"""overview.series: the visible clients' usage summed per bucket in one read (the dashboard's
spend over time), equal to the sum of the clients' own series; a portal token sums only its
client and never sees a cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.api.conftest import Gateway, Sdks
from tests.api.graphql_support import create_client, issue_key, owner

SERIES = """{
  overview {
    series(bucket: DAY) { start requests inputTokens charge { amount currency } cost { amount } }
  }
  clients { usage { series(bucket: DAY) { start requests inputTokens charge { amount }
                                          cost { amount } } } }
}"""


Day = tuple[int, int, Decimal, Decimal]  # requests, input tokens, charge, cost


def _day(point: dict[str, Any]) -> Day:
    return (
        point["requests"],
        point["inputTokens"],
        Decimal(point["charge"]["amount"]),
        Decimal(point["cost"]["amount"]),
    )


def _summed(clients: list[dict[str, Any]]) -> dict[str, Day]:
    days: dict[str, Day] = {}
    for client in clients:
        for point in client["usage"]["series"]:
            r, t, charge, cost = days.get(point["start"], (0, 0, Decimal(0), Decimal(0)))
            pr, pt, pcharge, pcost = _day(point)
            days[point["start"]] = (r + pr, t + pt, charge + pcharge, cost + pcost)
    return days


def test_the_overview_series_sums_every_clients_days(gateway: Gateway, sdks: Sdks) -> None:
    admin = owner(gateway)
    for name, calls in (("series one", 2), ("series two", 3)):
        client_id = create_client(admin, name, {"percentageMargin": {"percent": "25"}})
        sdk = sdks.openai(issue_key(admin, client_id))
        for _ in range(calls):
            sdk.chat.completions.create(
                model="demo/chat", messages=[{"role": "user", "content": "count me"}]
            )

    data = admin.data(SERIES)
    total = {point["start"]: _day(point) for point in data["overview"]["series"]}

    assert total == _summed(data["clients"])
    assert sum(requests for requests, *_ in total.values()) >= 5
    assert {point["charge"]["currency"] for point in data["overview"]["series"]} == {"USD"}


def test_a_portal_token_sums_only_its_client_and_sees_no_cost(gateway: Gateway, sdks: Sdks) -> None:
    admin = owner(gateway)
    mine = create_client(admin, "series portal", {"percentageMargin": {"percent": "10"}})
    sdk = sdks.openai(issue_key(admin, mine))
    sdk.chat.completions.create(model="demo/chat", messages=[{"role": "user", "content": "hi"}])
    secret = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=mine,
    )["createPortalToken"]["secret"]
    portal = admin.as_token(secret)

    query = "{ overview { series(bucket: HOUR) { requests charge { amount } } } }"
    own = portal.data(query)["overview"]["series"]
    expected = portal.data(
        "query($id: ID!) { client(id: $id) { usage { series(bucket: HOUR) "
        "{ requests charge { amount } } } } }",
        id=mine,
    )["client"]["usage"]["series"]
    refused = portal.run("{ overview { series(bucket: DAY) { cost { amount } } } }")

    assert own == expected
    assert sum(point["requests"] for point in own) == 1
    assert "not allowed" in refused["errors"][0]["message"]
