"""Budgets through the running gateway, on SQLite and PostgreSQL: a hard limit holds under 100
concurrent calls, refusals are OpenAI's 429 `insufficient_quota`, holds return to zero."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import event

from domain.alerting.alerts import AlertKind
from domain.billing.money import Money
from domain.billing.plans import FixedPrice
from domain.budgets.limits import BudgetBasis, BudgetMode, BudgetStatus
from domain.metering.request_bounds import text_bound
from domain.metering.usage import CallStatus, UsageSource
from domain.usecases.budgets import BudgetInput
from tests.api.conftest import Admin, Gateway, Upstreams
from tests.support.budget_leases import once_returned

HI = [{"role": "user", "content": "hi"}]
MODEL = "openai/gpt-4o-mini"
# gpt-4o-mini: 0.15 in / 0.60 out per million, 30% margin. The fake reports 12 in / 7 out,
# so a call is charged 7.8e-6. HOLD is the hold of text_bound(2, 10) (66 input tokens, 10
# output); a call through HTTP holds more (its 90 bytes of JSON: 154 input tokens).
CHARGE = Decimal("0.0000078")
HOLD = Decimal("0.00002067")


def call(secret: str, **extra: object) -> dict[str, object]:
    return {
        "url": "/v1/chat/completions",
        "json": {"model": MODEL, "messages": HI, "max_tokens": 10, **extra},
        "headers": {"authorization": f"Bearer {secret}"},
    }


async def fire(gateway: Gateway, secret: str, count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30, limits=limits) as http:
        return await asyncio.gather(*(http.post(**call(secret)) for _ in range(count)))  # type: ignore[arg-type]


async def status(admin: Admin, client_id: str) -> BudgetStatus:
    found = await admin.container.budgets().of_client(client_id)
    assert found is not None
    return found


async def returned(admin: Admin, client_id: str) -> BudgetStatus:
    """The status once the gateway gave its idle budget lease back (0.2 s unused, here)."""
    return await once_returned(lambda: admin.container.budgets().of_client(client_id))


async def settled_charge(admin: Admin, client_id: str) -> Decimal:
    return sum((r.charge.amount for r in await admin.usage(client_id)), Decimal(0))


async def test_a_hard_budget_holds_under_100_concurrent_calls(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    limit = Decimal("0.0001")  # room for 4 holds at once, about 12 settled calls in all
    await admin.container.budgets().set_for_client(client_id, BudgetInput(limit))
    upstreams.openai.first_byte_delay = 0.05  # calls overlap

    responses = await fire(gateway, secret, 100)

    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert ok
    assert refused
    for response in refused:
        assert response.status_code == 429
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    spent = await settled_charge(admin, client_id)
    assert spent == len(ok) * CHARGE
    assert spent <= limit
    after = await returned(admin, client_id)
    assert after.spent == spent  # spent + reserved is exactly the settled spend again
    assert after.reserved == 0
    kinds = [a.kind for a in await _alerts(admin, client_id)]
    assert kinds.count(AlertKind.HARD_LIMIT_REFUSED) == 1  # one an hour, however many refusals


async def test_a_failing_provider_releases_every_reservation(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("0.0001")))
    upstreams.openai.status = 500

    responses = await fire(gateway, secret, 20)

    assert {r.status_code for r in responses} <= {502, 429}
    assert any(r.status_code == 502 for r in responses)
    after = await returned(admin, client_id)
    assert (after.spent, after.reserved) == (0, 0)
    records = await admin.usage(client_id)
    assert records
    assert all(r.status is CallStatus.FAILED for r in records)
    upstreams.openai.status = None
    assert (await fire(gateway, secret, 1))[0].status_code == 200  # no phantom refusal


async def test_streams_settle_and_release(
    gateway: Gateway, upstreams: Upstreams, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("1")))
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        request = call(secret, stream=True, stream_options={"include_usage": True})
        async with http.stream("POST", **request) as response:  # type: ignore[arg-type]
            assert response.status_code == 200
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert b"[DONE]" in body
    for _ in range(50):  # the relay settles right after the last byte
        after = await returned(admin, client_id)
        if after.reserved == 0:
            break
        await asyncio.sleep(0.05)
    assert (after.spent, after.reserved) == (CHARGE, 0)


async def test_the_key_budget_must_fit_too(gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    budgets = admin.container.budgets()
    await budgets.set_for_client(client_id, BudgetInput(Decimal("1")))
    [key] = await admin.container.keys().for_client(client_id)
    await budgets.set_for_key(key.id, BudgetInput(HOLD - Decimal("0.000001")))

    [response] = await fire(gateway, secret, 1)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "insufficient_quota"
    client_side = await returned(admin, client_id)
    assert (client_side.spent, client_side.reserved) == (0, 0)  # all or nothing
    await budgets.set_for_key(key.id, BudgetInput(HOLD, mode=BudgetMode.SOFT))
    assert (await fire(gateway, secret, 1))[0].status_code == 200


async def test_soft_budgets_let_calls_through_and_alert_once_per_threshold(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    soft = BudgetInput(CHARGE * 2, mode=BudgetMode.SOFT, thresholds=(50, 100))
    await admin.container.budgets().set_for_client(client_id, soft)

    responses = [(await fire(gateway, secret, 1))[0] for _ in range(4)]

    assert [r.status_code for r in responses] == [200] * 4
    after = await returned(admin, client_id)
    assert after.spent == 4 * CHARGE
    alerts = [a for a in await _alerts(admin, client_id) if a.kind is AlertKind.BUDGET_THRESHOLD]
    assert sorted(a.details["percent"] for a in alerts) == ["100", "50"]
    fifty = next(a for a in alerts if a.details["percent"] == "50")
    assert fifty.details["spent"] == str(CHARGE)
    assert fifty.details["basis"] == "charge"
    assert fifty.dedupe_key.endswith(f":{after.period.label}:50")


async def test_a_fixed_price_client_is_measured_in_provider_cost(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key(FixedPrice(Money(Decimal("500"))))
    budget = await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal(1)))
    assert budget.budget.basis_under(None) is BudgetBasis.CHARGE  # explicit plan decides
    assert (await fire(gateway, secret, 1))[0].status_code == 200
    after = await returned(admin, client_id)
    assert after.spent == CHARGE / Decimal("1.3")  # the cost; the usage charge is zero


async def test_a_crashed_call_is_swept_by_recovery(gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("0.0001")))
    metering = admin.container.metering()
    grant = await metering.authorize(await metering.authenticate(secret), MODEL, "req_crashed")
    await metering.hold_and_journal(
        grant, text_bound(2, 10)
    )  # held and journaled; then the process "dies"
    assert (await status(admin, client_id)).reserved == HOLD

    await admin.container.process_leases().release()  # the process "died"
    now = datetime.now(UTC)
    swept = await metering.recover(grant.started_at + timedelta(seconds=1), live_at=now)

    assert swept >= 1
    [record] = await admin.usage(client_id)
    assert record.status is CallStatus.FAILED
    assert record.source is UsageSource.ESTIMATED
    assert record.usage.input_tokens == 1  # the prompt it sent (2 chars), no output relayed
    after = await returned(admin, client_id)
    assert (after.spent, after.reserved) == (record.charge.amount, 0)
    assert 0 < after.spent <= HOLD


async def _alerts(admin: Admin, client_id: str) -> list:  # type: ignore[type-arg]
    async with admin.container.uow()() as uow:
        return await uow.alerts.recent(client_ids=[client_id])


async def test_an_idempotent_replay_is_held_and_billed_once(gateway: Gateway, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("0.001")))
    request = call(secret)
    request["headers"] = {**request["headers"], "idempotency-key": "budget-replay-1"}  # type: ignore[dict-item]
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        first = await http.post(**request)  # type: ignore[arg-type]
        second = await http.post(**request)  # type: ignore[arg-type]
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["idempotent-replayed"] == "true"
    after = await returned(admin, client_id)
    assert (after.spent, after.reserved) == (CHARGE, 0)
    assert len(await admin.usage(client_id)) == 1


async def test_the_messages_route_refuses_in_anthropic_format(
    gateway: Gateway, admin: Admin
) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.budgets().set_for_client(client_id, BudgetInput(Decimal("0.000001")))
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        refused = await http.post(
            "/v1/messages",
            json={"model": "anthropic/claude-haiku-4-5", "max_tokens": 100, "messages": HI},
            headers={"x-api-key": secret, "anthropic-version": "2023-06-01"},
        )
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert "budget" in refused.json()["error"]["message"]


async def test_calls_without_a_budget_touch_no_budget_table(admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    metering = admin.container.metering()
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    engine = admin.container.engine().sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for number in range(3):
            grant = await metering.authorize(
                await metering.authenticate(secret), MODEL, f"req_plain_{client_id}_{number}"
            )
            await metering.hold_and_journal(grant, text_bound(2, 10))
            await metering.settle(grant, [])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    budget_reads = [s for s in statements if "budget" in s and "byok_settings" not in s]
    assert len(budget_reads) <= 1  # the list of budgets, once per configuration revision
    byok_reads = [s for s in statements if "byok_" in s]
    assert len(byok_reads) <= 2  # BYOK credentials and settings, once per revision too
    assert all(s.lstrip().upper().startswith("SELECT") for s in budget_reads)
