"""Staff and portal tokens, revocation on the next request, and the billing currency."""

from __future__ import annotations

from tests.api.conftest import Gateway
from tests.api.graphql_support import create_client, owner, staff

REVOKE_STAFF = """mutation($id: ID!) { revokeStaffToken(id: $id) {
  __typename ... on RevokeStaffTokenSuccess { staffToken { id revokedAt } } } }"""
REVOKE_PORTAL = """mutation($id: ID!) { revokePortalToken(id: $id) {
  __typename ... on RevokePortalTokenSuccess { portalToken { id revokedAt } } } }"""


def test_a_revoked_staff_token_is_refused_at_once(gateway: Gateway) -> None:
    created = owner(gateway).data(
        """mutation { createStaffToken(input: {name: "leaving", role: VIEWER}) {
             ... on CreateStaffTokenSuccess { secret staffToken { id } } } }"""
    )["createStaffToken"]
    viewer = owner(gateway).as_token(created["secret"])
    assert viewer.data("{ me { role } }")["me"]["role"] == "VIEWER"
    refused_viewer = staff(gateway, "VIEWER").run(REVOKE_STAFF, id=created["staffToken"]["id"])

    done = owner(gateway).data(REVOKE_STAFF, id=created["staffToken"]["id"])["revokeStaffToken"]
    missing = owner(gateway).data(REVOKE_STAFF, id="no-such-token")["revokeStaffToken"]

    assert "not allowed" in refused_viewer["errors"][0]["message"]
    assert done["__typename"] == "RevokeStaffTokenSuccess"
    assert done["staffToken"]["revokedAt"] is not None
    assert viewer.post("{ me { role } }").status_code == 401
    assert missing["__typename"] == "NotFoundError"


def test_a_revoked_portal_token_is_refused_at_once(gateway: Gateway) -> None:
    admin = owner(gateway)
    client_id = create_client(admin, "Portal revocation", {"percentageMargin": {"percent": "5"}})
    created = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret portalToken { id } } } }""",
        id=client_id,
    )["createPortalToken"]
    portal = admin.as_token(created["secret"])
    assert portal.post("{ me { kind } }").status_code == 200

    done = admin.data(REVOKE_PORTAL, id=created["portalToken"]["id"])["revokePortalToken"]

    assert done["__typename"] == "RevokePortalTokenSuccess"
    assert done["portalToken"]["revokedAt"] is not None
    assert portal.post("{ me { kind } }").status_code == 401


def test_staff_tokens_carry_name_email_and_role(gateway: Gateway) -> None:
    create = """mutation($input: CreateStaffTokenInput!) { createStaffToken(input: $input) {
      __typename
      ... on CreateStaffTokenSuccess { staffToken { id name email role } }
      ... on ValidationError { message } } }"""

    made = owner(gateway).data(
        create, input={"name": "Ada", "email": "ada@agency.example", "role": "ADMIN"}
    )["createStaffToken"]
    bad = owner(gateway).data(create, input={"name": "Bob", "email": "nope", "role": "VIEWER"})[
        "createStaffToken"
    ]
    listed = owner(gateway).data("{ staffTokens { id email } }")["staffTokens"]

    assert made["staffToken"]["email"] == "ada@agency.example"
    assert made["staffToken"]["role"] == "ADMIN"
    assert bad["__typename"] == "ValidationError"
    assert {"id": made["staffToken"]["id"], "email": "ada@agency.example"} in listed


def test_clients_and_prices_in_another_currency_are_accepted(gateway: Gateway) -> None:
    """Any ISO 4217 currency: usage converts at dated exchange rates (docs/currencies.md)."""
    client = owner(gateway).data(
        """mutation { createClient(input: {name: "Acme GmbH", currency: "EUR",
             pricing: {percentageMargin: {percent: "10"}}}) {
             __typename ... on ClientSuccess { client { currency } } } }"""
    )["createClient"]
    price = owner(gateway).data(
        """mutation { setModelPrice(input: {model: "demo/eur", provider: "demo", currency: "EUR",
             inputPerMillion: "1", outputPerMillion: "2"}) {
             __typename ... on ValidationError { message } } }"""
    )["setModelPrice"]
    bad = owner(gateway).data(
        """mutation { createClient(input: {name: "Bad", currency: "euro",
             pricing: {percentageMargin: {percent: "10"}}}) {
             __typename ... on ValidationError { message } } }"""
    )["createClient"]

    assert client == {"__typename": "ClientSuccess", "client": {"currency": "EUR"}}
    assert price["__typename"] == "SetModelPriceSuccess"
    assert bad["__typename"] == "ValidationError"
    models = owner(gateway).data("{ models { id } }")["models"]
    assert "demo/eur" in [m["id"] for m in models]
