"""Aliases over GraphQL: set, list, retarget, remove with typed errors, and the calls through
them per alias and answering model, at the client's price for a portal (docs/aliases.md)."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import Gateway, Sdks
from tests.api.graphql_support import Gql, create_client, issue_key, staff

SET = """
mutation($input: SetModelAliasInput!) {
  setModelAlias(input: $input) {
    __typename
    ... on SetModelAliasSuccess { alias { name modelId clientId createdAt updatedAt } }
    ... on ValidationError { message code }
    ... on NotFoundError { message code }
  }
}"""
REMOVE = """
mutation($name: String!, $clientId: ID) {
  removeModelAlias(name: $name, clientId: $clientId) {
    __typename
    ... on RemoveModelAliasSuccess { alias { name modelId } }
    ... on NotFoundError { message code }
  }
}"""
LIST = "query($id: ID) { modelAliases(clientId: $id) { name modelId clientId } }"
USAGE = """query($id: ID!) { aliasUsage(clientId: $id) {
  alias model requests inputTokens outputTokens charge { amount currency } cost { amount } } }"""


def _set(gql: Gql, **input: object) -> dict[str, object]:
    result: dict[str, object] = gql.data(SET, input=input)["setModelAlias"]
    return result


def test_an_admin_sets_retargets_and_removes_an_alias(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    client = create_client(admin, "Alias GraphQL", {"percentageMargin": {"percent": "10"}})

    made = _set(admin, name="support-bot", modelId="demo/chat", clientId=client)
    moved = _set(admin, name="support-bot", modelId="openai/gpt-4o-mini", clientId=client)

    assert made["__typename"] == moved["__typename"] == "SetModelAliasSuccess"
    assert moved["alias"]["modelId"] == "openai/gpt-4o-mini"  # type: ignore[index]
    assert moved["alias"]["createdAt"] == made["alias"]["createdAt"]  # type: ignore[index]
    listed = admin.data(LIST, id=client)["modelAliases"]
    assert {"name": "support-bot", "modelId": "openai/gpt-4o-mini", "clientId": client} in listed
    removed = admin.data(REMOVE, name="support-bot", clientId=client)["removeModelAlias"]
    assert removed == {
        "__typename": "RemoveModelAliasSuccess",
        "alias": {"name": "support-bot", "modelId": "openai/gpt-4o-mini"},
    }
    again = admin.data(REMOVE, name="support-bot", clientId=client)["removeModelAlias"]
    assert again["__typename"] == "NotFoundError"
    assert all(a["name"] != "support-bot" for a in admin.data(LIST, id=client)["modelAliases"])


def test_bad_aliases_are_typed_errors(gateway: Gateway) -> None:
    admin = staff(gateway, "ADMIN")
    cases = [
        ({"name": "openai/gpt-4o", "modelId": "demo/chat"}, "ValidationError", "validation_error"),
        ({"name": "a b", "modelId": "demo/chat"}, "ValidationError", "validation_error"),
        ({"name": "x" * 129, "modelId": "demo/chat"}, "ValidationError", "validation_error"),
        ({"name": "bot", "modelId": "openai/nope"}, "NotFoundError", "model_not_found"),
        (
            {"name": "bot", "modelId": "demo/chat", "clientId": "nobody"},
            "NotFoundError",
            "not_found",
        ),
    ]
    for input, typename, code in cases:
        answer = _set(admin, **input)
        assert (answer["__typename"], answer["code"]) == (typename, code), input
        assert answer["message"]


def test_a_viewer_reads_aliases_but_cannot_set_them(gateway: Gateway) -> None:
    viewer = staff(gateway, "VIEWER")
    answer = viewer.run(SET, input={"name": "bot", "modelId": "demo/chat"})
    assert answer["data"] is None
    assert "not allowed" in answer["errors"][0]["message"]
    assert isinstance(viewer.data(LIST)["modelAliases"], list)


def test_the_portal_sees_its_calls_through_aliases_at_its_price(
    gateway: Gateway, sdks: Sdks
) -> None:
    admin = staff(gateway, "ADMIN")
    client = create_client(admin, "Alias portal", {"percentageMargin": {"percent": "10"}})
    other = create_client(admin, "Alias other", {"percentageMargin": {"percent": "10"}})
    _set(admin, name="helpdesk", modelId="demo/chat", clientId=client)
    _set(admin, name="other-bot", modelId="demo/chat", clientId=other)
    openai_client = sdks.openai(issue_key(admin, client))
    for _ in range(2):
        openai_client.chat.completions.create(
            model="helpdesk", messages=[{"role": "user", "content": "hi"}]
        )
    portal_secret = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client,
    )["createPortalToken"]["secret"]
    portal = admin.as_token(portal_secret)

    [row] = admin.data(USAGE, id=client)["aliasUsage"]
    assert (row["alias"], row["model"], row["requests"]) == ("helpdesk", "demo/chat", 2)
    charge, cost = Decimal(row["charge"]["amount"]), Decimal(row["cost"]["amount"])
    assert charge == cost * Decimal("1.1")
    seen = portal.run(USAGE, id=client)
    assert "not allowed" in seen["errors"][0]["message"]  # provider cost: staff only
    assert [r["cost"] for r in seen["data"]["aliasUsage"]] == [None]
    mine = portal.data(USAGE.replace(" cost { amount }", ""), id=client)["aliasUsage"]
    assert [(r["alias"], r["requests"], r["charge"]) for r in mine] == [
        ("helpdesk", 2, row["charge"])
    ]
    names = {a["name"] for a in portal.data(LIST)["modelAliases"]}
    assert "helpdesk" in names
    assert "other-bot" not in names
    assert portal.data(LIST, id=other)["modelAliases"] == []
    assert portal.data(USAGE.replace(" cost { amount }", ""), id=other)["aliasUsage"] == []


def test_the_catalog_shows_each_models_routes(gateway: Gateway) -> None:
    viewer = staff(gateway, "VIEWER")
    models = {m["id"]: m for m in viewer.data("{ models { id routes } }")["models"]}
    assert "POST /v1/responses" in models["demo/chat"]["routes"]
    assert "POST /v1/messages" in models["demo/chat"]["routes"]
    assert models["demo/embed"]["routes"][0] == "POST /v1/embeddings"
    assert "POST /v1/chat/completions" not in models["demo/embed"]["routes"]
