"""Alerts and webhooks through Management: portal tokens see their client's alerts only (and
no provider-cost figures), staff see all; only owners and admins acknowledge or manage
webhooks, and portal tokens may not even list webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access.principals import NotAllowed, PortalPrincipal, Role, StaffPrincipal
from domain.alerting.alerts import Alert, AlertKind
from domain.billing.plans import PercentageMargin
from domain.errors import NotFound, ValidationError
from domain.ids import new_id
from domain.usecases.clients import NewClient
from domain.usecases.management import Management, UseCases
from domain.usecases.webhooks import NewWebhook, WebhookUseCases
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock
from tests.unit.usecases.wiring import fake_use_cases

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


async def setup() -> tuple[UseCases, FakeUnitOfWorkFactory, str, str]:
    factory, clock, hasher = FakeUnitOfWorkFactory(), FrozenClock(NOW), FakeKeyHasher()
    use_cases = fake_use_cases(factory, clock, hasher)
    a, _ = await use_cases.clients.create(NewClient("A", PercentageMargin(Decimal(1))))
    b, _ = await use_cases.clients.create(NewClient("B", PercentageMargin(Decimal(2))))
    return use_cases, factory, a.id, b.id


async def raise_alert(factory: FakeUnitOfWorkFactory, client_id: str, **details: str) -> Alert:
    alert = Alert(
        id=new_id(),
        kind=AlertKind.SPEND_SPIKE,
        client_id=client_id,
        key_id=None,
        dedupe_key=new_id(),
        message=f"spike of {client_id}",
        created_at=NOW,
        details=details,
    )
    async with factory() as uow:
        assert await uow.alerts.raise_once(alert)
        await uow.commit()
    return alert


async def test_a_portal_sees_its_own_alerts_only_whatever_client_id_it_sends() -> None:
    use_cases, factory, a, b = await setup()
    mine = await raise_alert(factory, a, basis="charge", last_hour="12")
    await raise_alert(factory, b)
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases)

    assert [x.id for x in await portal.alerts(None, False, 50)] == [mine.id]
    assert [x.id for x in await portal.alerts(a, False, 50)] == [mine.id]
    assert await portal.alerts(b, False, 50) == []
    assert (await portal.alerts(a, False, 50))[0].details["last_hour"] == "12"


async def test_a_portal_does_not_see_figures_measured_in_provider_cost() -> None:
    use_cases, factory, a, _ = await setup()
    await raise_alert(factory, a, basis="cost", last_hour="25")
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases)
    staff = Management(StaffPrincipal("v", Role.VIEWER), use_cases)

    (seen,) = await portal.alerts(None, False, 50)
    assert seen.details == {}
    assert "25" not in seen.message
    assert (await staff.alerts(a, False, 50))[0].details["last_hour"] == "25"


async def test_staff_see_every_alert_and_only_writers_acknowledge() -> None:
    use_cases, factory, a, b = await setup()
    first = await raise_alert(factory, a)
    await raise_alert(factory, b)
    viewer = Management(StaffPrincipal("Vic", Role.VIEWER), use_cases)
    admin = Management(StaffPrincipal("Ada", Role.ADMIN), use_cases)
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases)

    assert len(await viewer.alerts(None, False, 50)) == 2
    for refused in (viewer, portal):
        with pytest.raises(NotAllowed):
            await refused.acknowledge_alert(first.id)
    acknowledged = await admin.acknowledge_alert(first.id)
    assert acknowledged.acknowledged_by == "Ada"
    assert [x.client_id for x in await viewer.alerts(None, True, 50)] == [b]
    with pytest.raises(NotFound):
        await admin.acknowledge_alert("no-such-alert")
    with pytest.raises(ValidationError):
        await viewer.alerts(None, False, 0)


async def test_webhooks_are_refused_to_portals_and_to_viewers_for_writes() -> None:
    use_cases, _, a, _ = await setup()
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases)
    viewer = Management(StaffPrincipal("Vic", Role.VIEWER), use_cases)
    with pytest.raises(NotAllowed):
        await portal.webhooks(None)
    with pytest.raises(NotAllowed):
        await portal.deliveries(["w"], 5)
    for refused in (portal, viewer):
        with pytest.raises(NotAllowed):
            await refused.create_webhook(NewWebhook("https://hooks.example.com/x"))
        with pytest.raises(NotAllowed):
            await refused.delete_webhook("w")


async def test_private_webhook_urls_are_refused_unless_allowed() -> None:
    factory, clock, hasher = FakeUnitOfWorkFactory(), FrozenClock(NOW), FakeKeyHasher()
    strict = WebhookUseCases(factory, clock, hasher, allow_private=False)
    for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.1/x", "http://localhost/x"):
        with pytest.raises(ValidationError, match="BIZGRAPH_ALLOW_PRIVATE_URLS"):
            await strict.create(NewWebhook(url))
    with pytest.raises(ValidationError, match="http"):
        await strict.create(NewWebhook("gopher://hooks.example.com/x"))
