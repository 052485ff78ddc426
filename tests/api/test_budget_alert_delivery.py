"""Budget alerts raised by real calls reach a client's webhook, signed: a threshold crossed by
settled spend and a hard-limit refusal, each once."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from domain.budgets.limits import BudgetMode
from domain.usecases.budgets import BudgetInput
from tests.api.conftest import Admin, Gateway
from tests.api.graphql_support import staff
from tests.api.test_webhooks_and_alerts import create_webhook, valid, wait_for
from tests.support.servers import WebhookReceiver, serve_in_thread

HI = [{"role": "user", "content": "hi"}]


async def test_threshold_and_refusal_alerts_reach_the_clients_webhook(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    hook = WebhookReceiver()
    with serve_in_thread(hook.app) as base:
        created = create_webhook(staff(gateway, "ADMIN"), base + "/hook", clientId=client_id)
        assert created["__typename"] == "CreateWebhookSuccess", created
        budgets = admin.container.budgets()
        # 7.8e-6 per call: the first (soft) call passes 50% of 1e-5; under the hard budget that
        # follows, a hold of 2e-5 never fits.
        await budgets.set_for_client(
            client_id, BudgetInput(Decimal("0.00001"), BudgetMode.SOFT, thresholds=(50, 150))
        )
        async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
            body = {"model": "openai/gpt-4o-mini", "messages": HI, "max_tokens": 10}
            headers = {"authorization": f"Bearer {secret}"}
            passed = await http.post("/v1/chat/completions", json=body, headers=headers)
            await budgets.set_for_client(
                client_id, BudgetInput(Decimal("0.00001"), BudgetMode.HARD, thresholds=(50, 150))
            )
            refused = [
                await http.post("/v1/chat/completions", json=body, headers=headers)
                for _ in range(3)
            ]
        assert passed.status_code == 200
        assert [r.status_code for r in refused] == [429, 429, 429]
        delivered = wait_for(lambda: len(hook.delivered()) >= 2 and hook.delivered(), "alerts")

    events = [json.loads(r.body) for r in delivered]
    kinds = sorted(event["type"] for event in events)
    assert kinds == ["budget_threshold", "hard_limit_refused"]
    assert all(valid(created["secret"], r.body, r.signature) for r in delivered)
    threshold = next(e for e in events if e["type"] == "budget_threshold")
    assert threshold["data"]["details"]["percent"] == "50"
    assert threshold["data"]["details"]["basis"] == "charge"
    assert threshold["client"]["id"] == client_id
