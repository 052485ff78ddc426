"""The GraphQL schema fuzzed (hypothesis-graphql): queries and mutations generated from
schema.graphql, arguments of every type (NUL characters and huge numbers included), sent with
the owner's token to the running gateway on SQLite. No 5xx, and no masked error: every failure
is an expected one with a message that says what is wrong, never "Unexpected error."."""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis_graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from tests.fuzz.conftest import Target
from tests.fuzz.shapes import JSON_VALUES

SCHEMA = (Path(__file__).parents[2] / "schema.graphql").read_text()
SCALARS = {
    "Decimal": st.sampled_from(
        ["0", "1", "12.50", "-3", "1e30", "1e999999999", "1e-40", "NaN", "x", "", "\x00"]
    ).map(nodes.String),
    "DateTime": st.sampled_from(
        ["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01", "yesterday", ""]
    ).map(nodes.String),
    "Date": st.sampled_from(["2026-01-01", "2026-02-30", "2026-01-01T00:00:00Z", "today", ""]).map(
        nodes.String
    ),
}
FUZZ = settings(
    max_examples=45,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


def _check(target: Target, query: str) -> None:
    response = target.http.post(
        target.url + "/graphql",
        json={"query": query},
        headers={"authorization": f"Bearer {target.owner_token}"},
    )
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        for error in response.json().get("errors") or []:
            assert error["message"] != "Unexpected error.", (query, error)


@FUZZ
@given(query=hypothesis_graphql.queries(SCHEMA, custom_scalars=SCALARS))
def test_generated_queries(target: Target, query: str) -> None:
    _check(target, query)


@FUZZ
@given(query=hypothesis_graphql.mutations(SCHEMA, custom_scalars=SCALARS))
def test_generated_mutations(target: Target, query: str) -> None:
    _check(target, query)


# The mutations that store what they are given, fuzzed apart so each gets many examples.
STORING = [
    "createClient",
    "updateClient",
    "setPricing",
    "grantCredit",
    "setBudget",
    "setModelPrice",
    "issueApiKey",
    "createStaffToken",
    "createPortalToken",
    "setProviderCredential",
    "setByokSettings",
    "setTaxRate",
    "setClientTaxTreatment",
    "setClientBillingDetails",
    "setAgencyProfile",
    "setBillingMode",
    "topUpWallet",
    "adjustWallet",
    "setWalletSettings",
]


@FUZZ
@given(query=hypothesis_graphql.mutations(SCHEMA, fields=STORING, custom_scalars=SCALARS))
def test_generated_mutations_that_store_their_input(target: Target, query: str) -> None:
    _check(target, query)


def _envelope(variables: object) -> bytes:
    return json.dumps(
        {"query": "query($id: ID!) { client(id: $id) { name } }", "variables": variables}
    ).encode()


@FUZZ
@given(body=st.binary(max_size=300) | JSON_VALUES.map(_envelope))
def test_raw_bodies_and_variables(target: Target, body: bytes) -> None:
    """Bytes that are not JSON (or not UTF-8), and variables of any type and nesting: a 4xx in
    GraphQL's error format, or an answer with errors, never a 5xx."""
    response = target.http.post(
        target.url + "/graphql",
        content=body,
        headers={
            "authorization": f"Bearer {target.owner_token}",
            "content-type": "application/json",
        },
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["errors"][0]["message"], response.text


def test_the_gateway_is_healthy_after_the_fuzzing(target: Target) -> None:
    assert target.healthy()
