"""BYOK over GraphQL (docs/byok.md): an admin stores a client's key (checked with the strict
fake provider first), sees it masked, sets the fee, removes it; a refused key is a typed
error and nothing is stored; viewers read masked, portal tokens see only their BYOK usage;
the key never appears in an answer or the logs."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from tests.api.conftest import Gateway, Sdks, Upstreams
from tests.api.graphql_support import Gql, create_client, issue_key, staff

KEY = "sk-graphql-client-key-5678"
SET = """
mutation($input: SetProviderCredentialInput!) {
  setProviderCredential(input: $input) {
    __typename
    ... on SetProviderCredentialSuccess { credential { id provider last4 models lastUsedAt } }
    ... on ValidationError { message code }
    ... on NotFoundError { message code }
  }
}"""
REMOVE = """
mutation($client: ID!, $id: ID!) {
  removeProviderCredential(clientId: $client, credentialId: $id) {
    __typename
    ... on RemoveProviderCredentialSuccess { credential { id removedAt } }
    ... on NotFoundError { message code }
  }
}"""
SETTINGS = """
mutation($input: SetByokSettingsInput!) {
  setByokSettings(input: $input) {
    __typename
    ... on SetByokSettingsSuccess { settings { feeKind feeAmount budgetBasis onRevoke } }
    ... on ValidationError { message code }
    ... on NotFoundError { message code }
  }
}"""
LIST = "query($id: ID!) { providerCredentials(clientId: $id) { id last4 provider removedAt } }"
READ = "query($id: ID!) { byokSettings(clientId: $id) { feeKind feeAmount fallbackToAgency } }"
USAGE = """query($id: ID!) { byokUsage(clientId: $id) {
  model requests listCost { amount currency } fee { amount } } }"""


def portal(admin: Gql, client: str) -> Gql:
    secret = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client,
    )["createPortalToken"]["secret"]
    return admin.as_token(secret)


def test_credentials_and_fees_over_graphql(
    gateway: Gateway, upstreams: Upstreams, sdks: Sdks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstreams.openai.client_keys.add(KEY)
    admin = staff(gateway, "ADMIN")
    viewer = staff(gateway, "VIEWER")
    client = create_client(admin, "BYOK GraphQL", {"percentageMargin": {"percent": "10"}})

    refused = admin.data(
        SET, input={"clientId": client, "provider": "openai", "apiKey": "sk-bad-key-0000"}
    )
    stored = admin.data(SET, input={"clientId": client, "provider": "openai", "apiKey": KEY})
    fee = admin.data(
        SETTINGS, input={"clientId": client, "feeKind": "PERCENT_OF_LIST", "feeAmount": "12.5"}
    )
    bad_fee = admin.data(
        SETTINGS, input={"clientId": client, "feeKind": "PERCENT_OF_LIST", "feeAmount": "-1"}
    )
    gateway.container.config_revision().changed()
    sdks.openai(issue_key(admin, client)).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    listed = viewer.data(LIST, id=client)["providerCredentials"]
    settings = viewer.data(READ, id=client)["byokSettings"]
    [usage] = admin.data(USAGE, id=client)["byokUsage"]
    own = portal(admin, client)
    portal_usage = own.data(USAGE, id=client)["byokUsage"]
    portal_list = own.run(LIST, id=client)
    viewer_set = viewer.run(SET, input={"clientId": client, "provider": "openai", "apiKey": KEY})
    credential_id = stored["setProviderCredential"]["credential"]["id"]
    removed = admin.data(REMOVE, client=client, id=credential_id)["removeProviderCredential"]
    again = admin.data(REMOVE, client=client, id=credential_id)["removeProviderCredential"]

    assert refused["setProviderCredential"]["__typename"] == "ValidationError"
    assert refused["setProviderCredential"]["code"] == "credential_rejected"
    made = stored["setProviderCredential"]
    assert made["__typename"] == "SetProviderCredentialSuccess"
    assert made["credential"]["last4"] == "5678"
    assert fee["setByokSettings"]["settings"]["feeAmount"] == "12.5"
    assert bad_fee["setByokSettings"]["__typename"] == "ValidationError"
    assert [c["id"] for c in listed] == [credential_id]
    assert settings == {
        "feeKind": "PERCENT_OF_LIST",
        "feeAmount": "12.5",
        "fallbackToAgency": False,
    }
    assert usage["model"] == "openai/gpt-4o-mini"
    assert usage["requests"] == 1
    list_cost = Decimal(usage["listCost"]["amount"])
    assert list_cost > 0
    assert Decimal(usage["fee"]["amount"]) == list_cost * Decimal("0.125")
    assert portal_usage == [usage]
    assert portal_list["data"] is None
    assert "not allowed" in portal_list["errors"][0]["message"]
    assert viewer_set["data"] is None
    assert removed["credential"]["removedAt"] is not None
    assert again["__typename"] == "NotFoundError"
    answers = str([refused, stored, listed, settings, usage, removed, portal_list])
    assert KEY not in answers
    assert KEY not in caplog.text
