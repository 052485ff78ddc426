"""Who may do what over /graphql: no token (401), a viewer (reads, no writes), an admin (no
staff tokens), a portal token of client A (A only, at A's price: nothing of B whatever ids it
sends, no provider cost, profit or margin anywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN, Gateway, Sdks
from tests.api.graphql_support import Gql, create_client, issue_key, owner, staff

MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "createClient": (
        "mutation($i: CreateClientInput!) { createClient(input: $i) { __typename } }",
        {"i": {"name": "x", "pricing": {"percentageMargin": {"percent": "1"}}}},
    ),
    "updateClient": (
        'mutation($id: ID!) { updateClient(id: $id, input: {name: "y"}) { __typename } }',
        {"id": "B"},
    ),
    "suspendClient": ("mutation($id: ID!) { suspendClient(id: $id) { __typename } }", {"id": "B"}),
    "resumeClient": ("mutation($id: ID!) { resumeClient(id: $id) { __typename } }", {"id": "B"}),
    "setPricing": (
        """mutation($id: ID!) { setPricing(clientId: $id,
             pricing: {fixedFee: {monthlyFee: "1"}}) { __typename } }""",
        {"id": "B"},
    ),
    "issueApiKey": (
        "mutation($id: ID!) { issueApiKey(clientId: $id, input: {}) { __typename } }",
        {"id": "B"},
    ),
    "revokeApiKey": ("mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }", {"id": "BKEY"}),
    "setModelPrice": (
        """mutation { setModelPrice(input: {model: "demo/iso", provider: "demo",
             inputPerMillion: "1", outputPerMillion: "2"}) { __typename } }""",
        {},
    ),
    "createStaffToken": (
        'mutation { createStaffToken(input: {name: "x", role: OWNER}) { __typename } }',
        {},
    ),
    "setBudget": (
        'mutation($id: ID!) { setBudget(clientId: $id, input: {limit: "1"}) { __typename } }',
        {"id": "B"},
    ),
    "setKeyBudget": (
        'mutation($id: ID!) { setKeyBudget(keyId: $id, input: {limit: "1"}) { __typename } }',
        {"id": "BKEY"},
    ),
    "removeBudget": (
        "mutation($id: ID!) { removeBudget(clientId: $id) { __typename } }",
        {"id": "B"},
    ),
    "removeKeyBudget": (
        "mutation($id: ID!) { removeKeyBudget(keyId: $id) { __typename } }",
        {"id": "BKEY"},
    ),
    "setKeyRateLimits": (
        """mutation($id: ID!) { setKeyRateLimits(keyId: $id, input: {rpmLimit: 1})
             { __typename } }""",
        {"id": "BKEY"},
    ),
    "createPortalToken": (
        "mutation($id: ID!) { createPortalToken(clientId: $id) { __typename } }",
        {"id": "B"},
    ),
    "setModelAlias": (
        """mutation($id: ID!) { setModelAlias(input: {name: "iso", modelId: "demo/chat",
             clientId: $id}) { __typename } }""",
        {"id": "B"},
    ),
    "removeModelAlias": (
        'mutation($id: ID!) { removeModelAlias(name: "iso", clientId: $id) { __typename } }',
        {"id": "B"},
    ),
    "revokeStaffToken": (
        "mutation($id: ID!) { revokeStaffToken(id: $id) { __typename } }",
        {"id": "nothing"},
    ),
    "revokePortalToken": (
        "mutation($id: ID!) { revokePortalToken(id: $id) { __typename } }",
        {"id": "nothing"},
    ),
    "closePeriod": (
        'mutation { closePeriod(period: "2025-01", early: true) { __typename } }',
        {},
    ),
    "voidInvoice": (
        'mutation($id: ID!) { voidInvoice(id: $id, reason: "x") { __typename } }',
        {"id": "nothing"},
    ),
    "markInvoicePaid": (
        "mutation($id: ID!) { markInvoicePaid(id: $id) { __typename } }",
        {"id": "nothing"},
    ),
    "issueCreditNote": (
        """mutation($id: ID!) { issueCreditNote(invoiceId: $id, amount: "1", reason: "x") {
             __typename } }""",
        {"id": "nothing"},
    ),
    "grantCredit": (
        """mutation($id: ID!) { grantCredit(clientId: $id, amount: "1", reason: "x") {
             __typename } }""",
        {"id": "B"},
    ),
    "setBillingMode": (
        "mutation($id: ID!) { setBillingMode(clientId: $id, mode: PREPAID) { __typename } }",
        {"id": "B"},
    ),
    "topUpWallet": (
        'mutation($id: ID!) { topUpWallet(clientId: $id, amount: "1") { __typename } }',
        {"id": "B"},
    ),
    "adjustWallet": (
        """mutation($id: ID!) { adjustWallet(clientId: $id, amount: "-1", reason: "x") {
             __typename } }""",
        {"id": "B"},
    ),
    "setWalletSettings": (
        """mutation($id: ID!) { setWalletSettings(clientId: $id, input: {lowBalance: "1"}) {
             __typename } }""",
        {"id": "B"},
    ),
}

QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "me": ("{ me { kind name role clientId } }", {}),
    "clients": ("{ clients { id name } }", {}),
    "client": ("query($id: ID!) { client(id: $id) { id name } }", {"id": "B"}),
    "models": ("{ models { id } }", {}),
    "overview": ("{ overview { period requests rows { client { id } revenue { amount } } } }", {}),
    "usage": (
        """query($id: ID!) { client(id: $id) { usage { requests revenue { amount }
             byModel { model } series(bucket: HOUR) { requests } } } }""",
        {"id": "B"},
    ),
    "apiKeys": ("query($id: ID!) { client(id: $id) { apiKeys { id prefix } } }", {"id": "B"}),
    "pricing": (
        """query($id: ID!) { client(id: $id) { pricing { __typename }
             pricingHistory { id } } }""",
        {"id": "B"},
    ),
    "staffTokens": ("{ staffTokens { id } }", {}),
    "budget": (
        """query($id: ID!) { client(id: $id) { budget { limit { amount } spent { amount } }
             apiKeys { budget { limit { amount } } } } }""",
        {"id": "B"},
    ),
    "invoices": ("{ invoices { id clientId } }", {}),
    "invoicesOfB": (
        "query($id: ID!) { invoices(clientId: $id) { id clientId } }",
        {"id": "B"},
    ),
    "credits": ("query($id: ID!) { credits(clientId: $id) { id clientId } }", {"id": "B"}),
    "aliasesOfB": (
        "query($id: ID!) { modelAliases(clientId: $id) { name clientId } }",
        {"id": "B"},
    ),
    "walletOfB": (
        """query($id: ID!) { wallet(clientId: $id) { mode balance { amount }
             statement { total entries { reference } } } }""",
        {"id": "B"},
    ),
    "aliasUsageOfB": (
        "query($id: ID!) { aliasUsage(clientId: $id) { alias model requests } }",
        {"id": "B"},
    ),
}

# Fields that reveal the agency's cost: refused for a portal token wherever they appear.
COST_FIELDS = {
    "overview.cost": "{ overview { cost { amount } } }",
    "overview.profit": "{ overview { profit { amount } } }",
    "overview.margin": "{ overview { margin } }",
    "overview.rows.cost": "{ overview { rows { cost { amount } } } }",
    "overview.rows.profit": "{ overview { rows { profit { amount } } } }",
    "usage.cost": "query($id: ID!) { client(id: $id) { usage { cost { amount } } } }",
    "usage.profit": "query($id: ID!) { client(id: $id) { usage { profit { amount } } } }",
    "usage.margin": "query($id: ID!) { client(id: $id) { usage { margin } } }",
    "byModel.cost": "query($id: ID!) { client(id: $id) { usage { byModel { cost { amount } } } } }",
    "byModel.profit": (
        "query($id: ID!) { client(id: $id) { usage { byModel { profit { amount } } } } }"
    ),
    "series.cost": (
        "query($id: ID!) { client(id: $id) { usage { series(bucket: DAY) { cost { amount } } } } }"
    ),
    "models.prices": "{ models { prices { inputPerMillion } } }",
}


@dataclass
class World:
    a: str
    b: str
    b_name: str
    b_key: str
    portal_a: Gql
    viewer: Gql
    admin: Gql


@pytest.fixture
def world(gateway: Gateway, sdks: Sdks) -> World:
    admin = staff(gateway, "ADMIN")
    a = create_client(admin, "Isolation A", {"percentageMargin": {"percent": "10"}})
    b_name = "Isolation B secret-name"
    b = create_client(admin, b_name, {"fixedPrice": {"monthlyPrice": "50"}})
    for client_id in (a, b):
        sdks.openai(issue_key(admin, client_id)).chat.completions.create(
            model="demo/chat", messages=[{"role": "user", "content": "hi"}]
        )
    b_key = admin.data("query($id: ID!) { client(id: $id) { apiKeys { id } } }", id=b)
    portal = admin.data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret portalToken { clientId prefix } } } }""",
        id=a,
    )["createPortalToken"]
    assert portal["portalToken"]["clientId"] == a
    assert portal["secret"].startswith("bzp_")
    return World(
        a=a,
        b=b,
        b_name=b_name,
        b_key=b_key["client"]["apiKeys"][0]["id"],
        portal_a=admin.as_token(portal["secret"]),
        viewer=staff(gateway, "VIEWER"),
        admin=admin,
    )


def bind(variables: dict[str, Any], world: World) -> dict[str, Any]:
    names = {"B": world.b, "BKEY": world.b_key}
    return {k: names.get(v, v) if isinstance(v, str) else v for k, v in variables.items()}


def refused(answer: dict[str, Any]) -> bool:
    errors = answer.get("errors") or []
    return bool(errors) and all("not allowed" in e["message"] for e in errors)


@pytest.mark.parametrize("operation", [*MUTATIONS, *QUERIES])
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        f"Basic {ADMIN_TOKEN}",
        f"Bearer {ADMIN_TOKEN}x",
        "Bearer bzs_" + "x" * 43,
        "Bearer bzp_" + "y" * 43,
        "Bearer bzk_live_" + "z" * 43,
    ],
)
def test_without_a_valid_token_every_operation_is_401(
    gateway: Gateway, operation: str, authorization: str | None
) -> None:
    document, variables = {**MUTATIONS, **QUERIES}[operation]
    headers = {} if authorization is None else {"authorization": authorization}

    response = httpx.post(
        gateway.url + "/graphql", json={"query": document, "variables": variables}, headers=headers
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_viewer_reads_everything_but_changes_nothing(world: World) -> None:
    for name, (document, variables) in MUTATIONS.items():
        answer = world.viewer.run(document, **bind(variables, world))
        assert refused(answer), name
        assert answer["data"] is None, name
    for name, (document, variables) in QUERIES.items():
        answer = world.viewer.run(document, **bind(variables, world))
        if name == "staffTokens":
            assert refused(answer)
        else:
            assert "errors" not in answer, (name, answer)
    for name, document in COST_FIELDS.items():
        answer = world.viewer.run(document, **({"id": world.b} if "$id" in document else {}))
        assert "errors" not in answer, (name, answer)
    # Nothing changed: B is still active under its name.
    b = world.viewer.data("query($id: ID!) { client(id: $id) { name status } }", id=world.b)
    assert b["client"] == {"name": world.b_name, "status": "ACTIVE"}


def test_an_admin_manages_clients_but_not_staff(world: World) -> None:
    document, _ = MUTATIONS["createStaffToken"]
    assert refused(world.admin.run(document))
    assert refused(world.admin.run(QUERIES["staffTokens"][0]))
    for name in ("suspendClient", "resumeClient"):
        document, variables = MUTATIONS[name]
        done = world.admin.data(document, **bind(variables, world))
        assert done[name]["__typename"] == "ClientSuccess"


def test_a_portal_token_sees_its_client_only_and_never_the_cost(world: World) -> None:
    portal = world.portal_a
    answers = {}
    for name, (document, variables) in QUERIES.items():
        answer = portal.run(document, **bind(variables, world))
        answers[name] = answer
        text = str(answer)
        assert world.b not in text, name
        assert world.b_name not in text, name
        assert world.b_key not in text, name

    assert answers["me"]["data"]["me"] == {
        "kind": "PORTAL",
        "name": "portal",
        "role": None,
        "clientId": world.a,
    }
    assert [c["id"] for c in answers["clients"]["data"]["clients"]] == [world.a]
    assert answers["client"]["data"]["client"] is None
    assert [r["client"]["id"] for r in answers["overview"]["data"]["overview"]["rows"]] == [world.a]
    for name in ("usage", "apiKeys", "pricing", "budget"):
        assert answers[name]["data"]["client"] is None, name
    assert refused(answers["staffTokens"])
    assert answers["invoicesOfB"]["data"]["invoices"] == []
    assert answers["credits"]["data"]["credits"] == []
    assert answers["walletOfB"]["data"]["wallet"] is None

    mine = portal.data(
        "query($id: ID!) { client(id: $id) { usage { requests revenue { amount } } } }",
        id=world.a,
    )
    assert mine["client"]["usage"]["requests"] == 1
    for name, document in COST_FIELDS.items():
        answer = portal.run(document, **({"id": world.a} if "$id" in document else {}))
        assert refused(answer), (name, answer)
    for name, (document, variables) in MUTATIONS.items():
        answer = portal.run(document, **bind(variables, world))
        assert refused(answer), name
        assert answer["data"] is None, name


def test_mutations_are_refused_over_get(gateway: Gateway) -> None:
    document, _ = MUTATIONS["createClient"]
    got = httpx.get(
        gateway.url + "/graphql",
        params={"query": document},
        headers={"authorization": f"Bearer {owner(gateway).token}"},
    )
    assert got.status_code == 400
    assert "POST" in got.json()["errors"][0]["message"]
