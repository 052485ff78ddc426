"""WebhookRepository contract (webhooks and their deliveries), on the fakes, SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain.alerting.alerts import Alert, AlertKind
from domain.alerting.webhooks import Delivery, DeliveryStatus, Webhook
from domain.errors import Conflict, NotFound
from domain.ids import new_id
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed

MINUTE = timedelta(minutes=1)


def webhook(client_id: str | None, **overrides: Any) -> Webhook:
    values: dict[str, Any] = {
        "id": new_id(),
        "url": "https://hooks.example.com/bizgraph",
        "client_id": client_id,
        "events": (AlertKind.BUDGET_THRESHOLD, AlertKind.SPEND_SPIKE),
        "secret_salt": "salt",
        "created_at": T0,
    }
    return Webhook(**(values | overrides))


def delivery(alert_id: str, webhook_id: str, **overrides: Any) -> Delivery:
    values: dict[str, Any] = {
        "id": new_id(),
        "alert_id": alert_id,
        "webhook_id": webhook_id,
        "payload": '{"kind": "budget_threshold"}',
        "created_at": T0,
        "next_attempt_at": T0,
    }
    return Delivery(**(values | overrides))


async def an_alert(uow: UnitOfWork, client_id: str) -> str:
    alert = Alert(new_id(), AlertKind.SPEND_SPIKE, client_id, None, new_id(), "spike", T0)
    await uow.alerts.raise_once(alert)
    return alert.id


async def test_webhooks_are_found_oldest_first_per_client_and_agency_wide(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        mine, theirs = await seed.client(uow), await seed.client(uow)
        agency = webhook(None, created_at=T0 + MINUTE)
        own = webhook(mine.id, created_at=T0)
        other = webhook(theirs.id, created_at=T0 + 2 * MINUTE)
        off = webhook(mine.id, created_at=T0 + 3 * MINUTE, disabled_at=T0 + 4 * MINUTE)
        for added in (other, off, agency, own):
            await uow.webhooks.add(added)
        await uow.commit()
    async with store() as uow:
        assert await uow.webhooks.get(own.id) == own
        assert await uow.webhooks.get(new_id()) is None
        assert await uow.webhooks.find() == [own, agency, other]
        assert await uow.webhooks.find(include_disabled=True) == [own, agency, other, off]
        assert await uow.webhooks.find(client_id=mine.id) == [own]
        assert await uow.webhooks.find(client_id=mine.id, include_disabled=True) == [own, off]


async def test_a_webhook_of_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.webhooks.add(webhook(new_id()))


async def test_a_second_webhook_with_the_same_id_is_a_conflict(store: UnitOfWorkFactory) -> None:
    first = webhook(None)
    async with store() as uow:
        await uow.webhooks.add(first)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(Conflict):
            await uow.webhooks.add(replace(first, url="https://elsewhere.example.com/"))
    async with store() as uow:
        assert await uow.webhooks.get(first.id) == first


async def test_a_delivery_is_added_once_per_alert_and_webhook(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        alert_id = await an_alert(uow, owner.id)
        hook, other = webhook(owner.id), webhook(None)
        await uow.webhooks.add(hook)
        await uow.webhooks.add(other)
        first = delivery(alert_id, hook.id)
        assert await uow.webhooks.add_delivery(first)
        assert not await uow.webhooks.add_delivery(delivery(alert_id, hook.id))
        assert await uow.webhooks.add_delivery(delivery(alert_id, other.id))
        assert await uow.webhooks.deliveries([hook.id], 10) == [first]


async def test_disabling_cancels_pending_deliveries_once(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        hook = webhook(owner.id)
        await uow.webhooks.add(hook)
        pending = delivery(await an_alert(uow, owner.id), hook.id)
        done = delivery(
            await an_alert(uow, owner.id),
            hook.id,
            status=DeliveryStatus.DELIVERED,
            delivered_at=T0,
            created_at=T0 + MINUTE,
        )
        await uow.webhooks.add_delivery(pending)
        await uow.webhooks.add_delivery(done)
        disabled = await uow.webhooks.disable(hook.id, T0 + MINUTE)
        again = await uow.webhooks.disable(hook.id, T0 + 2 * MINUTE)
        assert disabled == again == replace(hook, disabled_at=T0 + MINUTE)
        assert await uow.webhooks.disable(new_id(), T0) is None
        assert await uow.webhooks.deliveries([hook.id], 10) == [
            done,
            replace(pending, status=DeliveryStatus.CANCELLED),
        ]
        assert not await uow.webhooks.any_due(T0 + MINUTE)


async def test_due_deliveries_are_claimed_once_until_the_lease_ends(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        hook, off = webhook(owner.id), webhook(None)
        await uow.webhooks.add(hook)
        await uow.webhooks.add(off)
        alerts = [await an_alert(uow, owner.id) for _ in range(4)]
        later = delivery(alerts[0], hook.id, next_attempt_at=T0 + MINUTE)
        sooner = delivery(alerts[1], hook.id, next_attempt_at=T0)
        future = delivery(alerts[2], hook.id, next_attempt_at=T0 + 9 * MINUTE)
        of_disabled = delivery(alerts[3], off.id, next_attempt_at=T0)
        for added in (later, sooner, future, of_disabled):
            await uow.webhooks.add_delivery(added)
        await uow.webhooks.disable(off.id, T0)
        await uow.commit()

    now = T0 + 2 * MINUTE
    async with store() as uow:
        assert await uow.webhooks.any_due(now)
        first = await uow.webhooks.claim_due(now, now + MINUTE, "claim-1", 1)
        rest = await uow.webhooks.claim_due(now, now + MINUTE, "claim-2", 10)
        none_left = await uow.webhooks.claim_due(now, now + MINUTE, "claim-3", 10)
        await uow.commit()
    assert first == [replace(sooner, attempts=1)]
    assert rest == [replace(later, attempts=1)]
    assert none_left == []

    async with store() as uow:
        assert not await uow.webhooks.any_due(now)
        failed = replace(
            rest[0],
            last_status_code=500,
            last_error="x" * 2000,
            next_attempt_at=now + 5 * MINUTE,
        )
        assert not await uow.webhooks.record(failed, "claim-1")  # not its claim
        assert await uow.webhooks.record(failed, "claim-2")
        assert not await uow.webhooks.record(failed, "claim-2")  # released already
        # the lease of claim-1 ended and it never recorded: claimable again, a second attempt
        retried = await uow.webhooks.claim_due(now + MINUTE, now + 2 * MINUTE, "claim-4", 10)
        assert retried == [replace(sooner, attempts=2)]
        [stored] = [d for d in await uow.webhooks.deliveries([hook.id], 10) if d.id == later.id]
    assert stored == replace(failed, last_error="x" * 500)  # errors are kept to 500 characters


async def test_deliveries_are_the_newest_few_of_each_webhook(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        hooks = [webhook(owner.id), webhook(None), webhook(None)]
        for hook in hooks:
            await uow.webhooks.add(hook)
        made: dict[str, list[Delivery]] = {hook.id: [] for hook in hooks}
        for n in range(4):
            alert_id = await an_alert(uow, owner.id)
            for h, hook in enumerate(hooks[:2]):
                added = delivery(alert_id, hook.id, created_at=T0 + (2 * n + h) * MINUTE)
                await uow.webhooks.add_delivery(added)
                made[hook.id].append(added)
        found = await uow.webhooks.deliveries([hooks[0].id, hooks[1].id, hooks[2].id], 2)
        assert await uow.webhooks.deliveries([], 2) == []
    newest = made[hooks[0].id][-2:] + made[hooks[1].id][-2:]
    assert found == sorted(newest, key=lambda d: (d.created_at, d.id), reverse=True)


async def test_a_delivery_of_an_unknown_alert_or_webhook_is_not_found(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        alert_id = await an_alert(uow, owner.id)
        hook = webhook(owner.id)
        await uow.webhooks.add(hook)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.webhooks.add_delivery(delivery(new_id(), hook.id))
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.webhooks.add_delivery(delivery(alert_id, new_id()))
