"""client.portalTokens: staff (viewers included) list a client's portal tokens by prefix, so the
admin app can revoke them; a portal token may not list any."""

from __future__ import annotations

from tests.api.conftest import Gateway
from tests.api.graphql_support import create_client, owner, staff

CREATE = """mutation($id: ID!, $name: String!) { createPortalToken(clientId: $id, name: $name) {
  ... on CreatePortalTokenSuccess { secret portalToken { id prefix } } } }"""
REVOKE = """mutation($id: ID!) { revokePortalToken(id: $id) { __typename } }"""
LIST = """query($id: ID!) { client(id: $id) {
  portalTokens { id name prefix createdAt revokedAt clientId } } }"""


def test_staff_list_a_clients_portal_tokens_and_see_revocations(gateway: Gateway) -> None:
    admin = owner(gateway)
    client_id = create_client(admin, "Token list", {"percentageMargin": {"percent": "5"}})
    other_id = create_client(admin, "Token list other", {"percentageMargin": {"percent": "5"}})
    first = admin.data(CREATE, id=client_id, name="finance")["createPortalToken"]
    second = admin.data(CREATE, id=client_id, name="cto")["createPortalToken"]
    admin.data(CREATE, id=other_id, name="elsewhere")
    admin.data(REVOKE, id=first["portalToken"]["id"])

    listed = staff(gateway, "VIEWER").data(LIST, id=client_id)["client"]["portalTokens"]

    assert [t["name"] for t in listed] == ["finance", "cto"]
    assert [t["prefix"] for t in listed] == [
        first["portalToken"]["prefix"],
        second["portalToken"]["prefix"],
    ]
    assert listed[0]["revokedAt"] is not None
    assert listed[1]["revokedAt"] is None
    assert {t["clientId"] for t in listed} == {client_id}
    assert second["secret"] not in str(listed)  # prefixes only, never a secret


def test_a_portal_token_may_not_list_portal_tokens(gateway: Gateway) -> None:
    admin = owner(gateway)
    client_id = create_client(admin, "Token list portal", {"percentageMargin": {"percent": "5"}})
    secret = admin.data(CREATE, id=client_id, name="viewer")["createPortalToken"]["secret"]

    answer = admin.as_token(secret).run(LIST, id=client_id)

    assert answer["errors"][0]["message"].startswith("not allowed")
