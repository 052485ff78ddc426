"""The hold covers everything a provider bills (issue 13), on SQLite and PostgreSQL: with the
fake upstreams billing like the real APIs, a call whose worst case does not fit a hard budget
is refused with 429 `insufficient_quota` before any provider sees it, and a call that fits
settles within its hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.budgets.limits import BudgetStatus
from domain.usecases.budgets import BudgetInput
from tests.api.conftest import Admin, Gateway, Upstreams
from tests.support.budget_leases import once_returned
from tests.upstreams.anthropic_fake import AnthropicScript

HI = [{"role": "user", "content": "hi"}]


async def post(gateway: Gateway, secret: str, path: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        headers = {"authorization": f"Bearer {secret}", "x-api-key": secret}
        return await http.post(path, json=body, headers=headers)


async def budgeted(admin: Admin, limit: str) -> tuple[str, str]:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal(limit)))
    return client_id, secret


async def status(admin: Admin, client_id: str) -> BudgetStatus:
    """The status once the gateway gave its idle budget lease back (0.2 s unused, here)."""
    return await once_returned(lambda: admin.container.budgets().of_client(client_id))


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["type"] in ("insufficient_quota", "rate_limit_error")


async def assert_nothing_spent(admin: Admin, client_id: str) -> None:
    after = await status(admin, client_id)
    assert (after.spent, after.reserved) == (0, 0)
    assert await admin.usage(client_id) == []


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "google/gemini-2.5-flash"])
async def test_n_choices_multiply_the_output_bound(
    gateway: Gateway, upstreams: Upstreams, admin: Admin, model: str
) -> None:
    upstreams.openai.bill = upstreams.gemini.bill = True
    limit = "0.001" if model.startswith("openai") else "0.5"
    client_id, secret = await budgeted(admin, limit)
    body = {"model": model, "messages": HI, "max_tokens": 100}

    one = await post(gateway, secret, "/v1/chat/completions", body)
    assert one.status_code == 200, one.text
    spent = (await status(admin, client_id)).spent
    many = await post(gateway, secret, "/v1/chat/completions", {**body, "n": 50})

    assert_refused(many)
    assert (await status(admin, client_id)).spent == spent <= Decimal(limit)
    received = (
        upstreams.openai.requests if model.startswith("openai") else upstreams.gemini.requests
    )
    assert len(received) == 1  # the provider never saw the n=50 call


async def test_every_input_of_an_embeddings_batch_counts(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await budgeted(admin, "0.0003")
    body = {"model": "demo/embed", "input": ["hello world"] * 4000}  # 12,000 tokens billed

    response = await post(gateway, secret, "/v1/embeddings", body)

    assert_refused(response)
    await assert_nothing_spent(admin, client_id)


async def test_token_array_inputs_count_exactly(gateway: Gateway, admin: Admin) -> None:
    # 1,000 tokens at 0.02 per million, 30 % margin: 0.000026; the hold is exactly that
    client_id, secret = await budgeted(admin, "0.000026")
    body = {"model": "demo/embed", "input": [[1, 2, 3, 4, 5]] * 200}

    response = await post(gateway, secret, "/v1/embeddings", body)

    assert response.status_code == 200, response.text
    after = await status(admin, client_id)
    assert (after.spent, after.reserved) == (Decimal("0.000026"), 0)


def _big_tool(description: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": description,
            "parameters": {"type": "object", "properties": {}},
        },
    }


@pytest.mark.parametrize("where", ["tool_definition", "tool_call_arguments", "system"])
async def test_tools_tool_calls_and_system_prompts_count(
    gateway: Gateway, upstreams: Upstreams, admin: Admin, where: str
) -> None:
    upstreams.openai.bill = True
    client_id, secret = await budgeted(admin, "0.001")
    big = "x" * 40_000  # 40,000 prompt tokens: 0.0078 at gpt-4o-mini's price and margin
    body: dict[str, Any] = {"model": "openai/gpt-4o-mini", "messages": HI, "max_tokens": 10}
    if where == "tool_definition":
        body["tools"] = [_big_tool(big)]
    elif where == "system":
        body["messages"] = [{"role": "system", "content": [{"type": "text", "text": big}]}, *HI]
    else:
        call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": big}}
        body["messages"] = [
            *HI,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        ]

    response = await post(gateway, secret, "/v1/chat/completions", body)

    assert_refused(response)
    assert upstreams.openai.requests == []
    await assert_nothing_spent(admin, client_id)


async def test_anthropic_system_and_tools_count(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    upstreams.anthropic.enqueue(AnthropicScript(bill=True))
    client_id, secret = await budgeted(admin, "0.01")
    big = "y" * 20_000  # 20,000 input tokens at 1.00 (1.25 cache write) per million: 0.0325
    body = {
        "model": "anthropic/claude-haiku-4-5",
        "max_tokens": 10,
        "system": "be brief",
        "tools": [{"name": "t", "description": big, "input_schema": {"type": "object"}}],
        "messages": HI,
    }

    response = await post(gateway, secret, "/v1/messages", body)

    assert response.status_code == 429, response.text
    assert upstreams.anthropic.requests == []
    await assert_nothing_spent(admin, client_id)


async def test_images_count_at_the_providers_rule(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    upstreams.openai.bill = True
    client_id, secret = await budgeted(admin, "0.02")
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    # gpt-4o-mini bills up to 48,169 tokens an image: 3 images cost up to 0.028
    body = {
        "model": "openai/gpt-4o-mini",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "?"}, *[image] * 3]}],
    }

    response = await post(gateway, secret, "/v1/chat/completions", body)
    assert_refused(response)
    one = await post(gateway, secret, "/v1/chat/completions", {**body, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "?"}, image]}
    ]})  # fmt: skip

    assert one.status_code == 200, one.text
    after = await status(admin, client_id)
    assert after.reserved == 0
    assert after.spent <= Decimal("0.02")
    assert len(upstreams.openai.requests) == 1


async def test_a_call_no_rule_bounds_is_refused_under_a_hard_budget_only(
    gateway: Gateway, admin: Admin
) -> None:
    _, secret = await budgeted(admin, "100")
    body = {
        "model": "openai/gpt-4o-mini",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "f1"}}]}],
    }

    response = await post(gateway, secret, "/v1/chat/completions", body)

    assert_refused(response)
    assert "file parts" in response.json()["error"]["message"]
