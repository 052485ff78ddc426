"""Without Stripe configured (the default): GraphQL says payments are off, an invoice has no
pay link, a top-up is a typed error, and POST /webhooks/stripe answers 404."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Gateway
from tests.api.graphql_support import create_client, owner, staff
from tests.api.stripe_support import START

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_payments_are_off_by_default(gateway: Gateway) -> None:
    gql = owner(gateway)
    assert gql.data("query { paymentsEnabled }")["paymentsEnabled"] is False
    client = create_client(gql, "No Stripe", {"percentageMargin": {"percent": "10"}})
    refused = gql.data(START, id=client, amount="10")["startWalletTopUp"]
    assert refused == {
        "__typename": "ValidationError",
        "message": "payments are not configured",
        "code": "payments_not_configured",
    }
    missing = gql.data('query { invoicePayment(invoiceId: "nope") { payUrl } }')
    assert missing["invoicePayment"] is None
    hook = httpx.post(gateway.url + "/webhooks/stripe", content=b"{}", timeout=10)
    assert hook.status_code == 404
    assert hook.json()["error"]["code"] == "not_found"


async def test_a_viewer_may_not_start_a_top_up(gateway: Gateway) -> None:
    client = create_client(owner(gateway), "Viewer test", {"percentageMargin": {"percent": "1"}})
    viewer = staff(gateway, "VIEWER")
    answer = viewer.data(START, id=client, amount="10")["startWalletTopUp"]
    assert answer["__typename"] == "NotAllowedError"
