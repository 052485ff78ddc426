"""Webhooks and deliveries on SQLite and PostgreSQL: stored and disabled (cancelling what is
pending), one delivery per (alert, webhook), claims that never overlap between concurrent
claimers, leases that expire, and outcomes recorded only by the lease holder."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.alerting.alerts import AlertKind
from domain.alerting.webhooks import Delivery, DeliveryStatus, Webhook
from domain.errors import NotFound
from domain.ids import new_id
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0
from tests.integration.persistence.test_alerts import alert

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
LEASE = timedelta(minutes=1)


def webhook(client_id: str | None, **overrides: object) -> Webhook:
    values: dict[str, object] = {
        "id": new_id(),
        "url": "https://hooks.example.com/bizgraph",
        "client_id": client_id,
        "events": tuple(AlertKind),
        "secret_salt": new_id(),
        "created_at": T0,
    }
    return Webhook(**(values | overrides))  # type: ignore[arg-type]


async def seed(uow: UowFactory, alerts: int = 1) -> tuple[str, Webhook, list[str]]:
    """A client, an agency webhook and `alerts` alerts (ids returned)."""
    client = builders.client()
    hook = webhook(None)
    made = [alert(client.id, new_id()) for _ in range(alerts)]
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.webhooks.add(hook)
        for each in made:
            await tx.alerts.raise_once(each)
        await tx.commit()
    return client.id, hook, [a.id for a in made]


def delivery(alert_id: str, webhook_id: str, **overrides: object) -> Delivery:
    values: dict[str, object] = {
        "id": new_id(),
        "alert_id": alert_id,
        "webhook_id": webhook_id,
        "payload": f'{{"id":"{alert_id}"}}',
        "created_at": T0,
        "next_attempt_at": T0,
    }
    return Delivery(**(values | overrides))  # type: ignore[arg-type]


async def add_deliveries(uow: UowFactory, deliveries: list[Delivery]) -> None:
    async with uow() as tx:
        for each in deliveries:
            assert await tx.webhooks.add_delivery(each)
        await tx.commit()


async def test_a_webhook_reads_back_lists_by_client_and_disables_once(uow: UowFactory) -> None:
    client_id, agency, _ = await seed(uow)
    own = webhook(client_id, events=(AlertKind.SPEND_SPIKE,), created_at=T0 + timedelta(1))
    async with uow() as tx:
        await tx.webhooks.add(own)
        await tx.commit()
    async with uow() as tx:
        assert await tx.webhooks.get(own.id) == own
        assert [w.id for w in await tx.webhooks.find()] == [agency.id, own.id]
        assert [w.id for w in await tx.webhooks.find(client_id=client_id)] == [own.id]
        disabled = await tx.webhooks.disable(own.id, T0 + timedelta(2))
        again = await tx.webhooks.disable(own.id, T0 + timedelta(3))
        assert await tx.webhooks.disable("nothing", T0) is None
        await tx.commit()
    assert disabled is not None
    assert disabled.disabled_at == T0 + timedelta(2)
    assert again == disabled
    async with uow() as tx:
        assert [w.id for w in await tx.webhooks.find()] == [agency.id]
        assert len(await tx.webhooks.find(include_disabled=True)) == 2


async def test_a_webhook_of_an_unknown_client_is_not_found(uow: UowFactory) -> None:
    async with uow() as tx:
        with pytest.raises(NotFound):
            await tx.webhooks.add(webhook("no-such-client"))


async def test_one_delivery_per_alert_and_webhook(uow: UowFactory) -> None:
    _, hook, (alert_id,) = await seed(uow)
    async with uow() as tx:
        assert await tx.webhooks.add_delivery(delivery(alert_id, hook.id))
        assert not await tx.webhooks.add_delivery(delivery(alert_id, hook.id))
        await tx.commit()
    async with uow() as tx:
        assert len(await tx.webhooks.deliveries([hook.id], 10)) == 1


async def test_claims_take_due_deliveries_once_count_the_attempt_and_expire(
    uow: UowFactory,
) -> None:
    _, hook, (due, later) = await seed(uow, alerts=2)
    await add_deliveries(
        uow,
        [delivery(due, hook.id), delivery(later, hook.id, next_attempt_at=T0 + timedelta(hours=1))],
    )
    async with uow() as tx:
        assert await tx.webhooks.any_due(T0)
        (claimed,) = await tx.webhooks.claim_due(T0, T0 + LEASE, "first", 10)
        await tx.commit()
    assert (claimed.alert_id, claimed.attempts) == (due, 1)
    async with uow() as tx:
        assert not await tx.webhooks.any_due(T0 + timedelta(seconds=59))
        assert await tx.webhooks.claim_due(T0 + timedelta(seconds=59), T0 + LEASE, "x", 10) == []
        # The lease expired (the claimer died): the next claimer gets it, a second attempt.
        again = await tx.webhooks.claim_due(T0 + LEASE, T0 + 2 * LEASE, "second", 10)
        await tx.commit()
    assert [(d.alert_id, d.attempts) for d in again] == [(due, 2)]
    async with uow() as tx:
        # The first claimer's late outcome is not recorded: it lost the lease.
        delivered = Delivery(**{**_fields(claimed), "status": DeliveryStatus.DELIVERED})
        assert not await tx.webhooks.record(delivered, "first")
        retry = Delivery(
            **{**_fields(again[0]), "last_status_code": 503, "next_attempt_at": T0 + LEASE * 5}
        )
        assert await tx.webhooks.record(retry, "second")
        await tx.commit()
    async with uow() as tx:
        stored = {d.alert_id: d for d in await tx.webhooks.deliveries([hook.id], 10)}
    assert stored[due].status is DeliveryStatus.PENDING
    assert (stored[due].attempts, stored[due].last_status_code) == (2, 503)
    assert stored[due].next_attempt_at == T0 + LEASE * 5


def _fields(d: Delivery) -> dict[str, object]:
    return {name: getattr(d, name) for name in Delivery.__dataclass_fields__}


async def test_concurrent_claimers_never_share_a_delivery(database_url: str) -> None:
    engines: list[AsyncEngine] = [create_engine(database_url) for _ in range(2)]
    try:
        factories = [unit_of_work_factory(e) for e in engines]
        _, hook, alert_ids = await seed(factories[0], alerts=30)
        await add_deliveries(factories[0], [delivery(a, hook.id) for a in alert_ids])

        async def claim(factory: UowFactory, name: str) -> list[str]:
            got: list[str] = []
            for _ in range(6):
                async with factory() as tx:
                    batch = await tx.webhooks.claim_due(T0, T0 + LEASE, f"{name}-{new_id()}", 4)
                    await tx.commit()
                got += [d.id for d in batch]
            return got

        results = await asyncio.gather(*(claim(factories[i % 2], f"p{i}") for i in range(4)))
        everything = [d for r in results for d in r]
        assert len(everything) == len(set(everything)) == 30
    finally:
        for engine in engines:
            await engine.dispose()


async def test_disabling_cancels_pending_deliveries_and_stops_claims(uow: UowFactory) -> None:
    _, hook, (alert_id,) = await seed(uow)
    await add_deliveries(uow, [delivery(alert_id, hook.id)])
    async with uow() as tx:
        await tx.webhooks.disable(hook.id, T0)
        await tx.commit()
    async with uow() as tx:
        assert not await tx.webhooks.any_due(T0 + timedelta(days=1))
        assert await tx.webhooks.claim_due(T0 + timedelta(days=1), T0 + LEASE * 9, "c", 10) == []
        (cancelled,) = await tx.webhooks.deliveries([hook.id], 10)
    assert cancelled.status is DeliveryStatus.CANCELLED


async def test_deliveries_are_the_newest_first_per_webhook(uow: UowFactory) -> None:
    client_id, first, alert_ids = await seed(uow, alerts=3)
    second = webhook(client_id)
    async with uow() as tx:
        await tx.webhooks.add(second)
        await tx.commit()
    await add_deliveries(
        uow,
        [
            delivery(a, hook.id, created_at=T0 + timedelta(minutes=i))
            for i, a in enumerate(alert_ids)
            for hook in (first, second)
        ],
    )
    async with uow() as tx:
        newest = await tx.webhooks.deliveries([first.id, second.id], 2)
        assert await tx.webhooks.deliveries([], 2) == []
    assert [(d.webhook_id, d.alert_id) for d in newest if d.webhook_id == first.id] == [
        (first.id, alert_ids[2]),
        (first.id, alert_ids[1]),
    ]
    assert len(newest) == 4
