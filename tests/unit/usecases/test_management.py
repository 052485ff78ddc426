"""Management: reads scoped by the principal, writes by role, whatever ids a caller sends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access.principals import NotAllowed, PortalPrincipal, Role, StaffPrincipal
from domain.billing.clients import ClientStatus
from domain.billing.plans import PercentageMargin
from domain.errors import NotFound
from domain.reports import Bucket
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from domain.usecases.management import Management, UseCases
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock
from tests.unit.usecases.wiring import fake_use_cases

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


async def setup() -> tuple[UseCases, str, str]:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    hasher = FakeKeyHasher()
    use_cases = fake_use_cases(factory, clock, hasher)
    a, _ = await use_cases.clients.create(NewClient("A", PercentageMargin(Decimal(1))))
    clock.advance(seconds=1)
    b, _ = await use_cases.clients.create(NewClient("B", PercentageMargin(Decimal(2))))
    await use_cases.keys.issue(NewKey(b.id, "b-key"))
    return use_cases, a.id, b.id


async def test_a_portal_principal_sees_its_client_only() -> None:
    use_cases, a, b = await setup()
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases)

    assert [c.id for c in await portal.clients()] == [a]
    assert await portal.client(b) is None
    assert [row.client.id for row in (await portal.overview(None)).rows] == [a]
    assert await portal.api_keys_of([a, b]) == {a: []}
    for read in (
        portal.plan_history(b),
        portal.client_draft(b, None),
        portal.by_model(b, None),
        portal.series(b, Bucket.DAY, None),
    ):
        with pytest.raises(NotFound):
            await read
    with pytest.raises(NotAllowed):
        await portal.prices("demo/chat")
    with pytest.raises(NotAllowed):
        await portal.set_status(a, ClientStatus.SUSPENDED)


async def test_viewers_read_admins_write_owners_manage_staff() -> None:
    use_cases, a, b = await setup()
    viewer = Management(StaffPrincipal("v", Role.VIEWER), use_cases)
    admin = Management(StaffPrincipal("a", Role.ADMIN), use_cases)
    owner = Management(StaffPrincipal("o", Role.OWNER), use_cases)

    assert [c.id for c in await viewer.clients()] == [a, b]
    assert len((await viewer.api_keys_of([b]))[b]) == 1
    with pytest.raises(NotAllowed):
        await viewer.set_status(a, ClientStatus.SUSPENDED)
    with pytest.raises(NotAllowed):
        await viewer.create_portal_token(a, "p")
    assert (await admin.set_status(a, ClientStatus.SUSPENDED)).status is ClientStatus.SUSPENDED
    with pytest.raises(NotAllowed):
        await admin.create_staff_token("x", Role.OWNER)
    with pytest.raises(NotAllowed):
        await admin.staff_tokens()
    issued = await owner.create_staff_token("x", Role.VIEWER)
    assert [t.id for t in await owner.staff_tokens()] == [issued.token.id]


async def test_reconciliation_is_for_staff_only() -> None:
    use_cases, a, _ = await setup()
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases)
    viewer = Management(StaffPrincipal("v", Role.VIEWER), use_cases)
    day = NOW.date()

    with pytest.raises(NotAllowed):
        await portal.reconciliation(day, day, None)
    with pytest.raises(NotAllowed):
        await portal.reconciled_through()
    assert await viewer.reconciled_through() == {}  # not wired here: never reconciled
    with pytest.raises(NotFound):
        await viewer.reconciliation(day, day, None)
