"""Clients' own provider keys (docs/byok.md) through the official SDKs, against the strict
fake upstreams that record what they received: a BYOK client's calls carry its key, another
client's the agency's; the record costs the agency nothing, keeps the list cost and charges
the fee; removal falls back or refuses as configured; fallbacks to agency-paid models only
when allowed; the key never shows in the logs or the database in clear."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import anthropic
import openai
import pytest
from sqlalchemy import select

from adapters.persistence.tables.byok import byok_credentials
from domain.billing.money import Money
from domain.byok.credentials import BudgetBasis, ByokSettings, CredentialInput, OnRevoke
from domain.byok.errors import CredentialRejected
from domain.byok.fees import ByokFee, FeeKind
from domain.metering.request_bounds import text_bound
from domain.usecases.budgets import BudgetInput
from domain.wallets.wallets import BillingMode
from tests.api.conftest import Admin, Gateway, Sdks, Upstreams
from tests.upstreams.anthropic_fake import AnthropicScript
from tests.upstreams.openai_fake import openai_usage

M = Decimal(1_000_000)
CLIENT_KEY = "sk-client-own-openai-key-0001"
CLIENT_ANTHROPIC_KEY = "sk-ant-client-own-key-0002"
MESSAGES = [{"role": "user", "content": "Say hi"}]


async def byok_client(
    admin: Admin,
    gateway: Gateway,
    upstreams: Upstreams,
    settings: ByokSettings | None = None,
    provider: str = "openai",
    key: str = CLIENT_KEY,
) -> tuple[str, str, str]:
    """A client with a key of its own for `provider`, its BYOK settings, and a gateway key."""
    client_id, secret = await admin.client_with_key()
    if provider == "openai":
        upstreams.openai.client_keys.add(key)
    else:
        upstreams.anthropic.client_keys.add(key)
    byok = admin.container.byok()
    stored = await byok.set_credential(CredentialInput(client_id, provider, key))
    await byok.set_settings(replace(settings or ByokSettings(client_id), client_id=client_id))
    gateway.container.config_revision().changed()
    return client_id, secret, stored.id


def authorizations(upstreams: Upstreams) -> list[str | None]:
    return [r.header("authorization") for r in upstreams.openai.requests if r.method == "POST"]


async def test_a_byok_clients_calls_carry_its_key_and_others_the_agencys(
    sdks: Sdks,
    gateway: Gateway,
    upstreams: Upstreams,
    admin: Admin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fee = ByokSettings("", ByokFee(FeeKind.PERCENT_OF_LIST, Decimal("10")))
    client_id, secret, _ = await byok_client(admin, gateway, upstreams, fee)
    other_id, other_secret = await admin.client_with_key()
    upstreams.openai.usage = openai_usage(1000, 300)

    sdks.openai(secret).chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    sdks.openai(other_secret).chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)

    assert authorizations(upstreams) == [
        f"Bearer {CLIENT_KEY}",
        f"Bearer {upstreams.openai.api_key}",
    ]
    list_cost = (1000 * Decimal("0.15") + 300 * Decimal("0.60")) / M
    [record] = await admin.usage(client_id)
    assert record.byok
    assert record.cost == Money(Decimal(0))
    assert record.list_cost == Money(list_cost)
    assert record.charge == Money(list_cost / 10)
    overview = await admin.container.reports().overview(None, [client_id])
    [row] = overview.rows
    assert row.draft.usage_cost == Money(Decimal(0))  # the overview: the fee at zero cost
    assert row.draft.usage_charge == record.charge
    assert row.draft.profit == record.charge + row.draft.fixed_total
    [agency] = await admin.usage(other_id)
    assert not agency.byok
    assert agency.list_cost is None
    assert agency.cost == Money(list_cost)
    assert CLIENT_KEY not in caplog.text
    async with admin.container.engine().connect() as conn:
        rows = (await conn.execute(select(byok_credentials))).mappings().all()
    assert rows
    assert all(CLIENT_KEY.encode() not in bytes(r["ciphertext"]) for r in rows)
    assert all(CLIENT_KEY not in str(dict(r)) for r in rows)


async def test_streams_carry_the_clients_key_and_are_billed_by_the_fee(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    fee = ByokSettings("", ByokFee(FeeKind.PER_REQUEST, Decimal("0.002")))
    client_id, secret, _ = await byok_client(admin, gateway, upstreams, fee)

    chunks = list(
        sdks.openai(secret).chat.completions.create(
            model="openai/gpt-4o-mini", messages=MESSAGES, stream=True
        )
    )

    assert chunks
    assert authorizations(upstreams) == [f"Bearer {CLIENT_KEY}"]
    [record] = await admin.usage(client_id)
    assert record.byok
    assert record.charge == Money(Decimal("0.002"))


async def test_removal_falls_back_to_the_agencys_key_or_refuses(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    agency_id, agency_secret, agency_cred = await byok_client(admin, gateway, upstreams)
    refuse = ByokSettings("", on_revoke=OnRevoke.REFUSE)
    refuse_id, refuse_secret, refuse_cred = await byok_client(admin, gateway, upstreams, refuse)
    byok = admin.container.byok()
    await byok.remove_credential(agency_id, agency_cred)
    await byok.remove_credential(refuse_id, refuse_cred)
    gateway.container.config_revision().changed()

    sdks.openai(agency_secret).chat.completions.create(
        model="openai/gpt-4o-mini", messages=MESSAGES
    )
    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdks.openai(refuse_secret).chat.completions.create(
            model="openai/gpt-4o-mini", messages=MESSAGES
        )

    assert refused.value.code == "byok_credential_revoked"
    assert authorizations(upstreams) == [f"Bearer {upstreams.openai.api_key}"]
    [record] = await admin.usage(agency_id)
    assert not record.byok
    assert await admin.usage(refuse_id) == []
    [masked] = await byok.credentials(agency_id)
    assert masked.revoked_at is not None
    assert masked.last4 == CLIENT_KEY[-4:]


@pytest.mark.parametrize("allowed", [False, True])
async def test_a_fallback_to_an_agency_paid_model_only_when_allowed(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin, allowed: bool
) -> None:
    settings = ByokSettings("", fallback_to_agency=allowed)
    client_id, secret, _ = await byok_client(admin, gateway, upstreams, settings)
    upstreams.openai.status = 500  # openai/flaky falls back to anthropic/claude-haiku-4-5

    if not allowed:
        with pytest.raises(openai.InternalServerError):
            sdks.openai(secret).chat.completions.create(model="openai/flaky", messages=MESSAGES)
        assert upstreams.anthropic.requests == []
        [failed] = await admin.usage(client_id)
        assert failed.byok
        return
    sdks.openai(secret).chat.completions.create(model="openai/flaky", messages=MESSAGES)
    [request] = upstreams.anthropic.requests
    assert request.headers["x-api-key"] == upstreams.anthropic.api_key
    first, second = await admin.usage(client_id)
    assert first.byok
    assert not second.byok
    assert second.cost.amount > 0


async def test_the_anthropic_sdk_reaches_anthropic_with_the_clients_key(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    fee = ByokSettings("", ByokFee(FeeKind.PER_MILLION_TOKENS, Decimal("2")), BudgetBasis.LIST_COST)
    client_id, secret, _ = await byok_client(
        admin, gateway, upstreams, fee, "anthropic", CLIENT_ANTHROPIC_KEY
    )
    upstreams.anthropic.enqueue(AnthropicScript())

    sdks.anthropic(secret).messages.create(
        model="anthropic/claude-haiku-4-5", max_tokens=50, messages=MESSAGES
    )

    [request] = upstreams.anthropic.requests
    assert request.headers["x-api-key"] == CLIENT_ANTHROPIC_KEY
    [record] = await admin.usage(client_id)
    tokens = record.usage.total_tokens
    assert record.byok
    assert record.charge == Money(Decimal(2) * tokens / M)


async def test_a_key_the_provider_refuses_is_not_stored(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, _ = await admin.client_with_key()
    byok = admin.container.byok()

    with pytest.raises(CredentialRejected):
        await byok.set_credential(CredentialInput(client_id, "openai", "sk-not-a-real-key-9999"))

    assert await byok.credentials(client_id) == []


async def test_a_hard_budget_holds_the_worst_case_in_the_clients_byok_basis(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    """A tiny hard budget: the fee basis with the fee included holds nothing and the call goes
    through; the list-cost basis holds the model's worst list cost and refuses it."""
    included = ByokSettings("")
    by_list = ByokSettings("", budget_basis=BudgetBasis.LIST_COST)
    fee_id, fee_secret, _ = await byok_client(admin, gateway, upstreams, included)
    list_id, list_secret, _ = await byok_client(admin, gateway, upstreams, by_list)
    for client_id in (fee_id, list_id):
        await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("0.0001")))
    gateway.container.config_revision().changed()

    sdks.openai(fee_secret).chat.completions.create(
        model="openai/gpt-4o-mini", messages=MESSAGES, max_tokens=50
    )
    with pytest.raises(openai.RateLimitError) as refused:
        sdks.openai(list_secret).chat.completions.create(
            model="openai/gpt-4o-mini", messages=MESSAGES, max_tokens=5000
        )

    assert "budget" in str(refused.value)
    [record] = await admin.usage(fee_id)
    assert record.byok
    assert record.charge == Money(Decimal(0))
    assert await admin.usage(list_id) == []


async def test_a_prepaid_byok_client_is_drawn_its_fee_whatever_its_budget_basis(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    """A wallet pays what the client is charged: a BYOK call's fee, never its list cost, even
    when the client's budgets count list cost. A wallet of 0.0001 with the fee included lets
    the call through and is drawn nothing; with a fee per million tokens it is drawn the fee."""
    included = ByokSettings("", budget_basis=BudgetBasis.LIST_COST)
    per_million = ByokSettings(
        "", ByokFee(FeeKind.PER_MILLION_TOKENS, Decimal("2")), BudgetBasis.LIST_COST
    )
    wallets = admin.container.wallets()
    clients = []
    for settings, top_up in ((included, "0.0001"), (per_million, "1")):
        client_id, secret, _ = await byok_client(admin, gateway, upstreams, settings)
        await wallets.set_mode(client_id, BillingMode.PREPAID, "ops")
        await wallets.top_up(client_id, Decimal(top_up), f"wire-{client_id}", "", "ops")
        clients.append((client_id, secret, Decimal(top_up)))
    gateway.container.config_revision().changed()

    for client_id, secret, top_up in clients:
        sdks.openai(secret).chat.completions.create(
            model="openai/gpt-4o-mini", messages=MESSAGES, max_tokens=50
        )
        [record] = await admin.usage(client_id)
        assert record.byok
        assert record.list_cost is not None
        assert record.list_cost.amount > 0
        balance = (await wallets.view(client_id)).balance.balance
        assert balance.amount == top_up - record.charge.amount  # the fee, not the list cost
    assert [(await admin.usage(c))[0].charge.amount == 0 for c, _, _ in clients] == [True, False]


async def test_a_refusal_after_removal_is_in_anthropics_format_on_messages(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    refuse = ByokSettings("", on_revoke=OnRevoke.REFUSE)
    client_id, secret, credential = await byok_client(
        admin, gateway, upstreams, refuse, "anthropic", CLIENT_ANTHROPIC_KEY
    )
    await admin.container.byok().remove_credential(client_id, credential)
    gateway.container.config_revision().changed()

    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        sdks.anthropic(secret).messages.create(
            model="anthropic/claude-haiku-4-5", max_tokens=50, messages=MESSAGES
        )

    assert refused.value.body["type"] == "error"  # type: ignore[index]  # the SDK types body as object
    assert "removed" in str(refused.value)
    assert upstreams.anthropic.requests == []


async def test_a_crashed_byok_call_is_recovered_as_byok(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    """Journal recovery bills an abandoned call by the key that serves its model now."""
    fee = ByokSettings("", ByokFee(FeeKind.PER_REQUEST, Decimal("0.01")))
    client_id, secret, _ = await byok_client(admin, gateway, upstreams, fee)
    metering = admin.container.metering()
    caller = await metering.authenticate(secret)
    grant = await metering.authorize(caller, "openai/gpt-4o-mini", "req_byok_crash_" + client_id)
    await metering.hold_and_journal(grant, text_bound(400, 100))

    await metering.recover(admin.container.clock().now() + timedelta(seconds=1))

    [record] = await admin.usage(client_id)
    assert record.request_id == grant.request_id
    assert record.byok
    assert record.cost == Money(Decimal(0))
    assert record.list_cost is not None
    assert record.charge == Money(Decimal("0.01"))


async def test_the_gemini_sdk_reaches_gemini_with_the_clients_key(
    sdks: Sdks, gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    key = "AIza-client-own-gemini-key-9876"
    upstreams.gemini.client_keys.add(key)
    client_id, secret = await admin.client_with_key()
    await admin.container.byok().set_credential(CredentialInput(client_id, "google", key))
    gateway.container.config_revision().changed()
    other_id, other_secret = await admin.client_with_key()

    sdks.gemini(secret).models.generate_content(model="gemini-2.5-flash", contents="Hi")
    sdks.gemini(other_secret).models.generate_content(model="gemini-2.5-flash", contents="Hi")

    headers = [r.header("x-goog-api-key") for r in upstreams.gemini.requests]
    assert headers == [key, upstreams.gemini.api_key]
    [record] = await admin.usage(client_id)
    assert record.byok
    [agency] = await admin.usage(other_id)
    assert not agency.byok
