"""AlertRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.alerting.alerts import Alert, AlertKind
from domain.errors import NotFound
from domain.ids import new_id
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def alert(client_id: str | None, **overrides: Any) -> Alert:
    values: dict[str, Any] = {
        "id": new_id(),
        "kind": AlertKind.BUDGET_THRESHOLD,
        "client_id": client_id,
        "key_id": None,
        "dedupe_key": new_id(),
        "message": "80 % of the budget",
        "created_at": T0,
        "details": {"threshold": "80"},
    }
    return Alert(**(values | overrides))


async def test_an_alert_is_raised_once_per_dedupe_key(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        first = alert(owner.id, dedupe_key="budget:80:2026-03")
        assert await uow.alerts.raise_once(first)
        assert not await uow.alerts.raise_once(alert(owner.id, dedupe_key="budget:80:2026-03"))
        await uow.commit()
    async with store() as uow:
        assert await uow.alerts.get(first.id) == first
        assert await uow.alerts.get(new_id()) is None
        assert await uow.alerts.recent() == [first]


async def test_an_alert_of_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.alerts.raise_once(alert(new_id()))


async def test_an_alert_of_no_client_is_the_agencys_own(store: UnitOfWorkFactory) -> None:
    """A reconciliation drift belongs to no client (client_id NULL since migration 0011)."""
    own = alert(None, kind=AlertKind.RECONCILIATION_DRIFT)
    async with store() as uow:
        assert await uow.alerts.raise_once(own)
        await uow.commit()
    async with store() as uow:
        assert await uow.alerts.get(own.id) == own


@PROPERTY
@given(
    drawn=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5), st.booleans()), max_size=8),
    scope=st.sampled_from(["all", "first", "none"]),
    unacknowledged_only=st.booleans(),
    limit=st.integers(1, 10),
)
async def test_recent_alerts_are_newest_first_filtered_and_limited(
    store: UnitOfWorkFactory,
    drawn: list[tuple[int, int, bool]],
    scope: str,
    unacknowledged_only: bool,
    limit: int,
) -> None:
    async with store() as uow:  # never committed: each example starts from an empty store
        owners = [(await seed.client(uow)).id for _ in range(3)]
        stored = []
        for n, (owner, minutes, acknowledged) in enumerate(drawn):
            raised = alert(owners[owner], id=f"a-{n}", created_at=T0 + timedelta(minutes=minutes))
            await uow.alerts.raise_once(raised)
            if acknowledged:
                at = T0 + timedelta(hours=1)
                raised = replace(raised, acknowledged_at=at, acknowledged_by="ops")
                assert await uow.alerts.acknowledge(raised.id, "ops", at) == raised
            stored.append(raised)
        asked = {"all": None, "first": owners[:1], "none": []}[scope]
        found = await uow.alerts.recent(
            client_ids=asked, unacknowledged_only=unacknowledged_only, limit=limit
        )
    chosen = [
        a
        for a in stored
        if (asked is None or a.client_id in asked) and not (unacknowledged_only and a.acknowledged)
    ]
    chosen.sort(key=lambda a: (a.created_at, a.id), reverse=True)
    assert found == chosen[:limit]


async def test_the_first_acknowledgement_is_kept(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        raised = alert(owner.id)
        await uow.alerts.raise_once(raised)
        first = await uow.alerts.acknowledge(raised.id, "ann", T0 + timedelta(minutes=1))
        second = await uow.alerts.acknowledge(raised.id, "bob", T0 + timedelta(minutes=2))
        assert first is not None
        assert (first.acknowledged_by, first.acknowledged_at) == ("ann", T0 + timedelta(minutes=1))
        assert second == first
        assert await uow.alerts.acknowledge(new_id(), "ann", T0) is None


async def test_undispatched_alerts_oldest_first_and_dispatched_once(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        newer = alert(owner.id, created_at=T0 + timedelta(minutes=5))
        older = alert(owner.id, created_at=T0)
        tied = alert(owner.id, id="a-tied", created_at=T0)
        for raised in (newer, older, tied):
            await uow.alerts.raise_once(raised)
        await uow.commit()
    async with store() as uow:
        assert [a.id for a in await uow.alerts.undispatched(2)] == sorted([older.id, "a-tied"])
        await uow.alerts.mark_dispatched([older.id, new_id()], T0 + timedelta(minutes=1))
        await uow.alerts.mark_dispatched([older.id], T0 + timedelta(minutes=9))
        await uow.alerts.mark_dispatched([], T0)
        await uow.commit()
    async with store() as uow:
        assert [a.id for a in await uow.alerts.undispatched(10)] == ["a-tied", newer.id]
        dispatched = await uow.alerts.get(older.id)
        assert dispatched is not None
        assert dispatched.dispatched_at == T0 + timedelta(minutes=1)
