"""Text and decimals that a backend cannot store are a typed ValidationError on SQLite and
PostgreSQL alike, never "Unexpected error." (PostgreSQL refuses NUL in text and numbers past
Numeric(38, 18); SQLite stored or refused them differently)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Gateway
from tests.api.graphql_support import CREATE_CLIENT, Gql, owner

PLAN = {"percentageMargin": {"percent": "10"}}
GRANT_CREDIT = """
mutation($id: ID!, $amount: Decimal!, $reason: String!) {
  grantCredit(clientId: $id, amount: $amount, reason: $reason) {
    __typename
    ... on ValidationError { message code }
  }
}"""
SET_BUDGET = """
mutation($id: ID!, $input: BudgetInput!) {
  setBudget(clientId: $id, input: $input) {
    __typename
    ... on ValidationError { message code }
  }
}"""


def _create(gql: Gql, **fields: Any) -> dict[str, Any]:
    answer = gql.run(CREATE_CLIENT, input={"name": "Acme", "pricing": PLAN, **fields})
    assert "errors" not in answer, answer
    result: dict[str, Any] = answer["data"]["createClient"]
    return result


def _client_id(gql: Gql) -> str:
    created = _create(gql)
    assert created["__typename"] == "ClientSuccess", created
    client_id: str = created["client"]["id"]
    return client_id


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"name": "Ac\x00me"}, "NUL"),
        ({"name": "Ac\x1bme"}, "control characters"),
        ({"billingEmail": "a\x00@b.c"}, "NUL"),
        ({"taxRate": "1e999999999"}, "too large"),
        ({"taxRate": "1e-999999999"}, "decimals"),
        ({"taxRate": "NaN"}, "finite"),
    ],
)
async def test_create_client_refuses_what_cannot_be_stored(
    gateway: Gateway, fields: dict[str, Any], said: str
) -> None:
    created = _create(owner(gateway), **fields)

    assert created["__typename"] == "ValidationError", created
    assert said in created["message"]


@pytest.mark.parametrize(
    ("amount", "reason", "said"),
    [
        ("1e30", "goodwill", "too large"),
        ("123456789012345678901", "goodwill", "too large"),
        ("1e999999999", "goodwill", "too large"),
        ("Infinity", "goodwill", "finite"),
        ("10", "good\x00will", "NUL"),
    ],
)
async def test_grant_credit_refuses_what_cannot_be_stored(
    gateway: Gateway, amount: str, reason: str, said: str
) -> None:
    gql = owner(gateway)
    answer = gql.run(GRANT_CREDIT, id=_client_id(gql), amount=amount, reason=reason)

    assert "errors" not in answer, answer
    result = answer["data"]["grantCredit"]
    assert result["__typename"] == "ValidationError", result
    assert said in result["message"]


async def test_the_largest_storable_amount_is_accepted(gateway: Gateway) -> None:
    gql = owner(gateway)
    answer = gql.run(
        GRANT_CREDIT, id=_client_id(gql), amount="99999999999999999999.99", reason="max"
    )

    assert answer["data"]["grantCredit"]["__typename"] == "GrantCreditSuccess", answer


async def test_a_budget_limit_too_large_to_store_is_refused(gateway: Gateway) -> None:
    gql = owner(gateway)
    answer = gql.run(SET_BUDGET, id=_client_id(gql), input={"limit": "1e25"})

    assert answer["data"]["setBudget"]["__typename"] == "ValidationError", answer
    assert "too large" in answer["data"]["setBudget"]["message"]


async def test_a_nul_in_an_id_is_not_an_unexpected_error(gateway: Gateway) -> None:
    answer = owner(gateway).run(GRANT_CREDIT, id="client\x00", amount="10", reason="goodwill")

    assert "errors" not in answer, answer
    assert answer["data"]["grantCredit"]["__typename"] == "ValidationError", answer


SET_MODEL_PRICE = """
mutation($input: SetModelPriceInput!) {
  setModelPrice(input: $input) {
    __typename
    ... on ValidationError { message code }
  }
}"""


@pytest.mark.parametrize(
    ("model", "said"),
    [("m" * 300, "at most 200"), ("m\x00", "NUL"), ("m\n", "control characters")],
)
async def test_a_model_name_that_cannot_be_stored_is_refused(
    gateway: Gateway, model: str, said: str
) -> None:
    price = {"model": model, "provider": "openai", "inputPerMillion": "1", "outputPerMillion": "2"}
    answer = owner(gateway).run(SET_MODEL_PRICE, input=price)

    assert "errors" not in answer, answer
    assert answer["data"]["setModelPrice"]["__typename"] == "ValidationError", answer
    assert said in answer["data"]["setModelPrice"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        'query { client(id: "c\\u0000") { id } }',
        'query { invoice(id: "i\\u0000") { id } }',
        'query { credits(clientId: "c\\u0000") { id } }',
        'query { alerts(clientId: "c\\u0000") { id } }',
        'query { webhooks(clientId: "c\\u0000") { id } }',
        'query { invoices(clientId: "c\\u0000") { id } }',
        'query { draftInvoice(clientId: "c\\u0000", period: "2026-01") { period } }',
    ],
)
async def test_a_nul_in_a_lookup_is_never_an_unexpected_error(gateway: Gateway, query: str) -> None:
    answer = owner(gateway).run(query)

    for error in answer.get("errors") or []:
        assert error["message"] != "Unexpected error.", (query, error)
