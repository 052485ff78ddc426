"""Alerts: stored once per dedupe key (even raised twice in one transaction or concurrently),
listed newest first per client, acknowledged once, and drained as the webhook outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.alerting.alerts import Alert, AlertKind
from domain.ids import new_id
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def alert(client_id: str, dedupe_key: str, **overrides: object) -> Alert:
    values: dict[str, object] = {
        "id": new_id(),
        "kind": AlertKind.BUDGET_THRESHOLD,
        "client_id": client_id,
        "key_id": None,
        "dedupe_key": dedupe_key,
        "message": "Acme used 80% of its budget",
        "created_at": T0,
        "details": {"threshold": "80", "spent": "80.000000000000000001"},
    }
    return Alert(**(values | overrides))  # type: ignore[arg-type]


async def _client(uow: UowFactory) -> str:
    client = builders.client()
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.commit()
    return client.id


async def test_an_alert_is_stored_once_per_dedupe_key_and_reads_back(uow: UowFactory) -> None:
    client_id = await _client(uow)
    first = alert(client_id, "threshold:80")
    async with uow() as tx:
        assert await tx.alerts.raise_once(first)
        assert not await tx.alerts.raise_once(alert(client_id, "threshold:80"))
        # The transaction is still usable after the skipped duplicate (PostgreSQL).
        assert await tx.alerts.raise_once(alert(client_id, "threshold:100"))
        await tx.commit()
    async with uow() as tx:
        assert await tx.alerts.get(first.id) == first
        assert len(await tx.alerts.recent(client_ids=[client_id])) == 2


async def test_concurrent_raises_of_one_alert_store_one(uow: UowFactory) -> None:
    client_id = await _client(uow)

    async def raise_it() -> bool:
        async with uow() as tx:
            stored = await tx.alerts.raise_once(alert(client_id, "spike:hour-1"))
            await tx.commit()
            return stored

    assert sorted(await asyncio.gather(*(raise_it() for _ in range(6)))) == [False] * 5 + [True]


async def test_listing_is_newest_first_per_client_and_filters_acknowledged(
    uow: UowFactory,
) -> None:
    mine, other = await _client(uow), await _client(uow)
    older = alert(mine, "a")
    newer = alert(mine, "b", created_at=T0 + timedelta(minutes=1), kind=AlertKind.SPEND_SPIKE)
    async with uow() as tx:
        for each in (older, newer, alert(other, "c")):
            await tx.alerts.raise_once(each)
        await tx.commit()
    async with uow() as tx:
        assert [a.id for a in await tx.alerts.recent(client_ids=[mine])] == [newer.id, older.id]
        assert len(await tx.alerts.recent()) == 3
        assert len(await tx.alerts.recent(limit=1)) == 1
        acknowledged = await tx.alerts.acknowledge(older.id, "ada", T0 + timedelta(hours=1))
        again = await tx.alerts.acknowledge(older.id, "bob", T0 + timedelta(hours=2))
        await tx.commit()
    assert acknowledged is not None
    assert acknowledged.acknowledged_by == "ada"
    assert again == acknowledged  # the first acknowledgement stands
    async with uow() as tx:
        pending = await tx.alerts.recent(client_ids=[mine], unacknowledged_only=True)
        assert [a.id for a in pending] == [newer.id]
        assert await tx.alerts.acknowledge("no-such-alert", "ada", T0) is None


async def test_undispatched_alerts_drain_oldest_first(uow: UowFactory) -> None:
    client_id = await _client(uow)
    first = alert(client_id, "a")
    second = alert(client_id, "b", created_at=T0 + timedelta(seconds=1))
    async with uow() as tx:
        await tx.alerts.raise_once(second)
        await tx.alerts.raise_once(first)
        await tx.commit()
    async with uow() as tx:
        assert [a.id for a in await tx.alerts.undispatched(10)] == [first.id, second.id]
        await tx.alerts.mark_dispatched([first.id], T0 + timedelta(minutes=5))
        await tx.commit()
    async with uow() as tx:
        assert [a.id for a in await tx.alerts.undispatched(10)] == [second.id]
        dispatched = await tx.alerts.get(first.id)
        assert dispatched is not None
        assert dispatched.dispatched_at == T0 + timedelta(minutes=5)
