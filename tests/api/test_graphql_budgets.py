"""Budgets and rate limits over GraphQL: an admin sets them, the client's portal token reads
its own budget, figures are Decimal strings that follow the calls."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx

from tests.api.conftest import Gateway
from tests.api.graphql_support import create_client, issue_key, staff

BUDGET_FIELDS = """limit { amount currency } spent { amount } reserved { amount }
  remaining { amount } usedPercent mode basis basisIsDefault thresholds period"""

SET_BUDGET = f"""
mutation($id: ID!, $input: BudgetInput!) {{
  setBudget(clientId: $id, input: $input) {{
    __typename
    ... on SetBudgetSuccess {{ budget {{ {BUDGET_FIELDS} }} }}
    ... on ValidationError {{ message code }}
    ... on NotFoundError {{ message }}
  }}
}}"""

SET_KEY_BUDGET = f"""
mutation($id: ID!, $input: BudgetInput!) {{
  setKeyBudget(keyId: $id, input: $input) {{
    __typename
    ... on SetBudgetSuccess {{ budget {{ {BUDGET_FIELDS} }} }}
    ... on NotFoundError {{ message }}
  }}
}}"""

READ = f"""
query($id: ID!) {{
  client(id: $id) {{
    budget {{ {BUDGET_FIELDS} }}
    apiKeys {{ id rpmLimit tpmLimit budget {{ limit {{ amount }} mode }} }}
  }}
}}"""


def test_budgets_are_set_read_and_removed(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    client_id = create_client(admin, "Budgeted", {"fixedPrice": {"monthlyPrice": "100"}})
    secret = issue_key(admin, client_id)

    created = admin.data(
        SET_BUDGET, id=client_id, input={"limit": "25.50", "mode": "SOFT", "thresholds": [90, 50]}
    )["setBudget"]

    assert created["__typename"] == "SetBudgetSuccess"
    budget = created["budget"]
    assert budget["limit"] == {"amount": "25.50", "currency": "USD"}
    assert (budget["mode"], budget["basis"], budget["basisIsDefault"]) == ("SOFT", "COST", True)
    assert budget["thresholds"] == [50, 90]
    assert (budget["spent"]["amount"], budget["reserved"]["amount"]) == ("0", "0")

    response = httpx.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "demo/chat", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    for _ in range(100):  # until the gateway gave its idle budget lease back (0.2 s, here)
        client = admin.data(READ, id=client_id)["client"]
        if client["budget"]["reserved"]["amount"] == "0":
            break
        time.sleep(0.05)
    spent = Decimal(client["budget"]["spent"]["amount"])
    assert spent > 0  # provider cost (fixed price: the usage charge is zero)
    assert Decimal(client["budget"]["remaining"]["amount"]) == Decimal("25.50") - spent
    exact_percent = spent * 100 / Decimal("25.50")
    assert client["budget"]["usedPercent"] == str(exact_percent.quantize(Decimal("0.0001")))

    [key] = client["apiKeys"]
    assert key["budget"] is None
    keyed = admin.data(SET_KEY_BUDGET, id=key["id"], input={"limit": "2", "basis": "CHARGE"})
    assert keyed["setKeyBudget"]["budget"]["basis"] == "CHARGE"
    limits = admin.data(
        """mutation($id: ID!) { setKeyRateLimits(keyId: $id, input: {rpmLimit: 30, tpmLimit: 900})
             { ... on ApiKeySuccess { apiKey { rpmLimit tpmLimit } } } }""",
        id=key["id"],
    )["setKeyRateLimits"]
    assert limits["apiKey"] == {"rpmLimit": 30, "tpmLimit": 900}

    removed = admin.data(
        "mutation($id: ID!) { removeBudget(clientId: $id) { ... on RemoveBudgetSuccess { removed } } }",
        id=client_id,
    )
    assert removed["removeBudget"] == {"removed": True}
    after = admin.data(READ, id=client_id)["client"]
    assert after["budget"] is None
    assert after["apiKeys"][0]["budget"] == {"limit": {"amount": "2"}, "mode": "HARD"}


def test_bad_budgets_are_typed_errors(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    client_id = create_client(admin, "Bad budget", {"percentageMargin": {"percent": "5"}})
    for bad in ({"limit": "0"}, {"limit": "-1"}, {"limit": "1", "thresholds": [0]}):
        answer = admin.data(SET_BUDGET, id=client_id, input=bad)["setBudget"]
        assert answer["__typename"] == "ValidationError", bad
    missing = admin.data(SET_BUDGET, id="no-such-client", input={"limit": "1"})["setBudget"]
    assert missing["__typename"] == "NotFoundError"


def test_the_portal_token_reads_its_own_budget(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    client_id = create_client(admin, "Portal budget", {"percentageMargin": {"percent": "5"}})
    admin.data(SET_BUDGET, id=client_id, input={"limit": "10"})
    portal = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]["secret"]

    mine = admin.as_token(portal).data(READ, id=client_id)["client"]

    assert mine["budget"]["limit"]["amount"] == "10"
    assert mine["budget"]["basis"] == "CHARGE"


def test_a_portal_is_refused_the_amounts_of_a_budget_on_provider_cost(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    client_id = create_client(admin, "Flat budget", {"fixedPrice": {"monthlyPrice": "100"}})
    admin.data(SET_BUDGET, id=client_id, input={"limit": "7", "mode": "HARD"})
    portal = admin.as_token(
        admin.data(
            """mutation($id: ID!) { createPortalToken(clientId: $id) {
                 ... on CreatePortalTokenSuccess { secret } } }""",
            id=client_id,
        )["createPortalToken"]["secret"]
    )
    shape = "query($id: ID!) { client(id: $id) { budget { %s } } }"

    # What the budget is, without a figure of the agency's cost: not even a percentage of it,
    # which with the charges a portal sees would give the limit away.
    seen = portal.data(shape % "usedPercent mode basis period", id=client_id)["client"]
    assert seen["budget"] == {
        "usedPercent": None,
        "mode": "HARD",
        "basis": "COST",
        "period": seen["budget"]["period"],
    }

    for amount in ("limit", "spent", "reserved", "remaining"):
        answer = portal.run(shape % f"{amount} {{ amount }}", id=client_id)
        assert answer["data"]["client"]["budget"] is None
        assert answer["errors"][0]["extensions"]["code"] == "not_allowed"
    # Staff read the amounts.
    staff_view = admin.data(shape % "limit { amount } usedPercent", id=client_id)["client"]
    assert staff_view["budget"] == {"limit": {"amount": "7"}, "usedPercent": "0.0000"}
