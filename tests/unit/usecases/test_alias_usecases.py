"""Alias use cases and who may use them: targets must exist, a retarget keeps the creation
instant, staff write by role, a portal sees its client's aliases only (docs/aliases.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access.principals import NotAllowed, PortalPrincipal, Role, StaffPrincipal
from domain.billing.plans import PercentageMargin
from domain.catalog.models import Model
from domain.errors import NotFound, UnknownModel, ValidationError
from domain.usecases.aliases import AliasInput
from domain.usecases.clients import NewClient
from domain.usecases.management import Management, UseCases
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock
from tests.unit.usecases.wiring import fake_use_cases

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
ADMIN = StaffPrincipal("admin", Role.ADMIN)


async def setup() -> tuple[UseCases, FrozenClock, str, str]:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    use_cases = fake_use_cases(factory, clock, FakeKeyHasher())
    for model_id in ("demo/chat", "openai/gpt-4o-mini"):
        provider, _, name = model_id.partition("/")
        await use_cases.catalog.save_model(Model(model_id, provider, name))
    a, _ = await use_cases.clients.create(NewClient("A", PercentageMargin(Decimal(1))))
    b, _ = await use_cases.clients.create(NewClient("B", PercentageMargin(Decimal(1))))
    return use_cases, clock, a.id, b.id


async def test_retargeting_keeps_the_creation_instant() -> None:
    use_cases, clock, a, _ = await setup()
    desk = Management(ADMIN, use_cases).aliases
    first = await desk.set(AliasInput("bot", "demo/chat", a))
    clock.advance(seconds=60)
    moved = await desk.set(AliasInput("bot", "openai/gpt-4o-mini", a))

    assert (moved.created_at, moved.updated_at) == (first.created_at, clock.now())
    assert [(x.name, x.model_id) for x in await desk.list(a)] == [("bot", "openai/gpt-4o-mini")]


@pytest.mark.parametrize(
    ("new", "error"),
    [
        (AliasInput("bot", "openai/nope"), UnknownModel),
        (AliasInput("bot", "demo/chat", "no-such-client"), NotFound),
        (AliasInput("open/ai", "demo/chat"), ValidationError),
        (AliasInput("", "demo/chat"), ValidationError),
    ],
)
async def test_bad_aliases_are_refused(new: AliasInput, error: type[Exception]) -> None:
    use_cases, _, _, _ = await setup()
    with pytest.raises(error):
        await Management(ADMIN, use_cases).aliases.set(new)
    assert await use_cases.aliases.list() == []


async def test_removing_an_alias_that_is_not_there_is_not_found() -> None:
    use_cases, _, a, _ = await setup()
    desk = Management(ADMIN, use_cases).aliases
    await desk.set(AliasInput("bot", "demo/chat", a))
    with pytest.raises(NotFound):
        await desk.remove(None, "bot")  # the agency has none of that name
    assert (await desk.remove(a, "bot")).name == "bot"
    assert await desk.list(None) == []


async def test_viewers_and_portals_change_nothing() -> None:
    use_cases, _, a, _ = await setup()
    for principal in (StaffPrincipal("v", Role.VIEWER), PortalPrincipal(client_id=a, token_id="t")):
        desk = Management(principal, use_cases).aliases
        with pytest.raises(NotAllowed):
            await desk.set(AliasInput("bot", "demo/chat", a))
        with pytest.raises(NotAllowed):
            await desk.remove(a, "bot")


async def test_a_portal_sees_its_own_and_the_agencys_aliases_only() -> None:
    use_cases, _, a, b = await setup()
    admin = Management(ADMIN, use_cases).aliases
    await admin.set(AliasInput("shared", "demo/chat"))
    await admin.set(AliasInput("shared", "openai/gpt-4o-mini", a))
    await admin.set(AliasInput("mine", "demo/chat", a))
    await admin.set(AliasInput("theirs", "demo/chat", b))
    portal = Management(PortalPrincipal(client_id=a, token_id="t"), use_cases).aliases

    seen = {(x.name, x.model_id, x.client_id) for x in await portal.list(None)}
    assert seen == {("shared", "openai/gpt-4o-mini", a), ("mine", "demo/chat", a)}
    assert await portal.list(b) == []
    assert await portal.usage(b, None) == []
    assert len(await admin.list(None)) == 4
