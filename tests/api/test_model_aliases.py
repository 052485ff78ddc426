"""Model aliases through the official SDKs (docs/aliases.md): a name the client app already uses
is resolved per client (its own alias, then the agency's) before authorization, billed and
limited as its target, and noted on the usage record next to the model that answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import openai
import pytest
import pytest_asyncio

from domain.billing.money import Money
from domain.budgets.limits import BudgetMode
from domain.ids import new_id
from domain.metering.usage import UsageRecord
from domain.usecases.aliases import AliasInput
from domain.usecases.budgets import BudgetInput
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.upstreams.anthropic_fake import AnthropicScript
from tests.upstreams.openai_fake import openai_usage

M = Decimal(1_000_000)
MARGIN = Decimal("1.3")  # the default test plan: percentage_margin(30)
HI = [{"role": "user", "content": "hi"}]


def _cost(record: UsageRecord, input: str, output: str, cached: str) -> Money:
    tokens = record.usage
    return Money(
        (
            tokens.uncached_input_tokens * Decimal(input)
            + tokens.cached_input_tokens * Decimal(cached)
            + tokens.output_tokens * Decimal(output)
        )
        / M
    )


@pytest_asyncio.fixture
async def agency_alias(admin: Admin) -> AsyncIterator[str]:
    """A fresh name for an agency-wide alias, removed after the test: the gateway is shared by
    the session, and an agency-wide alias reaches every client."""
    name = f"agency-{new_id()[:8]}"
    yield name
    aliases = admin.container.aliases()
    if any(a.name == name for a in await aliases.list()):
        await aliases.remove(None, name)


async def test_an_alias_on_demo_bills_its_target_and_records_both_names(
    sdks: Sdks, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.aliases().set(AliasInput("my-support-bot", "demo/chat", client_id))

    answer = sdks.openai(secret).chat.completions.with_raw_response.create(
        model="my-support-bot", messages=HI
    )

    assert answer.headers["x-bizgraph-model"] == "demo/chat"
    assert answer.parse().model == "demo/chat"  # the answer names the model that answered
    [record] = await admin.usage(client_id)
    assert (record.alias, record.model_id, record.provider) == (
        "my-support-bot",
        "demo/chat",
        "demo",
    )
    assert record.usage.output_tokens > 0
    assert record.cost == _cost(record, "0.50", "1.50", "0.25")
    assert record.charge == Money(record.cost.amount * MARGIN)
    [entry] = await admin.ledger(client_id)
    assert entry.amount == record.charge


async def test_retargeting_an_alias_moves_the_client_app_to_another_provider(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    aliases = admin.container.aliases()
    await aliases.set(AliasInput("gpt-4o", "anthropic/claude-haiku-4-5", client_id))
    upstreams.anthropic.enqueue(
        AnthropicScript(text="from Claude", input_tokens=12, output_tokens=7)
    )
    client = sdks.openai(secret)

    first = client.chat.completions.create(model="gpt-4o", messages=HI)
    await aliases.set(AliasInput("gpt-4o", "openai/gpt-4o-mini", client_id))
    upstreams.openai.reply = "from OpenAI"
    upstreams.openai.usage = openai_usage(20, 5)
    second = client.chat.completions.create(model="gpt-4o", messages=HI)

    assert first.choices[0].message.content == "from Claude"
    assert second.choices[0].message.content == "from OpenAI"
    assert upstreams.openai.last.body["model"] == "gpt-4o-mini"  # the upstream's own name
    claude, gpt = sorted(await admin.usage(client_id), key=lambda r: r.provider)
    assert (claude.alias, claude.model_id) == ("gpt-4o", "anthropic/claude-haiku-4-5")
    assert claude.cost == Money((12 * Decimal("1.00") + 7 * Decimal("5.00")) / M)
    assert (gpt.alias, gpt.model_id) == ("gpt-4o", "openai/gpt-4o-mini")
    assert gpt.cost == Money((20 * Decimal("0.15") + 5 * Decimal("0.60")) / M)


async def test_every_route_resolves_aliases(sdks: Sdks, gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    aliases = admin.container.aliases()
    await aliases.set(AliasInput("house-model", "demo/chat", client_id))
    await aliases.set(AliasInput("house-embed", "demo/embed", client_id))

    sdks.openai(secret).responses.create(model="house-model", input="hi", max_output_tokens=20)
    sdks.anthropic(secret).messages.create(model="house-model", max_tokens=20, messages=HI)  # type: ignore[arg-type]
    sdks.gemini(secret).models.generate_content(model="house-model", contents="hi")
    sdks.openai(secret).embeddings.create(model="house-embed", input="hi")
    sdks.gemini(secret).models.embed_content(model="house-embed", contents="hi")

    records = await admin.usage(client_id)
    assert sorted((r.alias, r.model_id) for r in records) == [
        ("house-embed", "demo/embed"),
        ("house-embed", "demo/embed"),
        ("house-model", "demo/chat"),
        ("house-model", "demo/chat"),
        ("house-model", "demo/chat"),
    ]
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        direct = await http.post(
            "/v1/chat/completions",
            json={"model": "demo/chat", "messages": HI},
            headers={"authorization": f"Bearer {secret}"},
        )
    assert direct.status_code == 200
    assert [r.alias for r in await admin.usage(client_id)].count(None) == 1  # no alias: none


async def test_an_alias_to_a_model_the_key_may_not_use_is_refused_like_the_model(
    sdks: Sdks, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key(allowed_models=("demo/chat",))
    await admin.container.aliases().set(AliasInput("fast", "openai/gpt-4o-mini", client_id))
    client = sdks.openai(secret)

    with pytest.raises(openai.PermissionDeniedError) as through_alias:
        client.chat.completions.create(model="fast", messages=HI)
    with pytest.raises(openai.PermissionDeniedError) as direct:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HI)

    assert through_alias.value.code == direct.value.code == "model_not_allowed"
    assert [m.id for m in client.models.list()].count("fast") == 0  # not offered either
    assert await admin.usage(client_id) == []


async def test_a_clients_alias_is_invisible_to_another_client(sdks: Sdks, admin: Admin) -> None:
    mine, my_secret = await admin.client_with_key()
    _, their_secret = await admin.client_with_key()
    await admin.container.aliases().set(AliasInput("private-bot", "demo/chat", mine))

    with pytest.raises(openai.NotFoundError) as refused:
        sdks.openai(their_secret).chat.completions.create(model="private-bot", messages=HI)

    assert refused.value.code == "model_not_found"
    assert "private-bot" in [m.id for m in sdks.openai(my_secret).models.list()]
    assert "private-bot" not in [m.id for m in sdks.openai(their_secret).models.list()]


async def test_a_clients_own_alias_wins_over_the_agencys(
    sdks: Sdks, upstreams: Upstreams, admin: Admin, agency_alias: str
) -> None:
    mine, my_secret = await admin.client_with_key()
    theirs, their_secret = await admin.client_with_key()
    aliases = admin.container.aliases()
    await aliases.set(AliasInput(agency_alias, "demo/chat"))
    await aliases.set(AliasInput(agency_alias, "openai/gpt-4o-mini", mine))

    sdks.openai(my_secret).chat.completions.create(model=agency_alias, messages=HI)
    sdks.openai(their_secret).chat.completions.create(model=agency_alias, messages=HI)

    [own] = await admin.usage(mine)
    [agency] = await admin.usage(theirs)
    assert (own.alias, own.model_id) == (agency_alias, "openai/gpt-4o-mini")
    assert (agency.alias, agency.model_id) == (agency_alias, "demo/chat")


async def test_rate_limits_count_calls_through_aliases(sdks: Sdks, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key(rpm_limit=1)
    await admin.container.aliases().set(AliasInput("limited", "demo/chat", client_id))
    client = sdks.openai(secret)

    client.chat.completions.create(model="limited", messages=HI)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="demo/chat", messages=HI)
    assert len(await admin.usage(client_id)) == 1


async def test_the_budget_holds_the_targets_worst_case(sdks: Sdks, admin: Admin) -> None:
    """The same request through two aliases: the hold is the target model's, so the cheap
    target fits the budget and the dear one is refused before any provider is called."""
    client_id, secret = await admin.client_with_key()
    aliases = admin.container.aliases()
    await aliases.set(AliasInput("cheap", "openai/gpt-4o-mini", client_id))
    await aliases.set(AliasInput("dear", "openai/gpt-4o", client_id))
    # 2000 output tokens: gpt-4o-mini holds about 0.0016, gpt-4o about 0.026 (with the margin)
    await admin.container.budgets().set_for_client(
        client_id, BudgetInput(Decimal("0.01"), mode=BudgetMode.HARD)
    )
    client = sdks.openai(secret)

    client.chat.completions.create(model="cheap", messages=HI, max_tokens=2000)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="dear", messages=HI, max_tokens=2000)

    assert refused.value.code == "insufficient_quota"
    [record] = await admin.usage(client_id)
    assert (record.alias, record.model_id) == ("cheap", "openai/gpt-4o-mini")


async def test_the_targets_fallbacks_apply_and_every_attempt_keeps_the_alias(
    sdks: Sdks, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.aliases().set(AliasInput("sturdy-bot", "openai/flaky", client_id))
    upstreams.openai.status = 503
    upstreams.anthropic.enqueue(
        AnthropicScript(text="Fallback here", input_tokens=10, output_tokens=5)
    )

    raw = sdks.openai(secret).chat.completions.with_raw_response.create(
        model="sturdy-bot", messages=HI
    )

    assert raw.headers["x-bizgraph-model"] == "anthropic/claude-haiku-4-5"
    failed, answered = sorted(await admin.usage(client_id), key=lambda r: r.attempt)
    assert (failed.alias, failed.model_id, failed.cost) == ("sturdy-bot", "openai/flaky", Money(0))
    assert (answered.alias, answered.model_id) == ("sturdy-bot", "anthropic/claude-haiku-4-5")
    assert answered.cost == Money((10 * Decimal(1) + 5 * Decimal(5)) / M)
    assert failed.request_id == answered.request_id == raw.headers["x-request-id"]


async def test_an_idempotent_replay_through_an_alias_bills_once(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.aliases().set(AliasInput("once-bot", "demo/chat", client_id))
    headers = {"authorization": f"Bearer {secret}", "idempotency-key": new_id()}
    body = {"model": "once-bot", "messages": HI}
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        first = await http.post("/v1/chat/completions", json=body, headers=headers)
        again = await http.post("/v1/chat/completions", json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    [record] = await admin.usage(client_id)
    assert record.alias == "once-bot"
