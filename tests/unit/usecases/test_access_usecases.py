"""AccessUseCases: tokens shown once and stored as digests; authentication to a principal."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.access.principals import (
    BOOTSTRAP_OWNER,
    PortalPrincipal,
    Role,
    StaffPrincipal,
    Unauthenticated,
)
from domain.billing.plans import PercentageMargin
from domain.errors import NotFound, ValidationError
from domain.usecases.access import AccessUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
BOOTSTRAP = "bootstrap-owner-token-" + "z" * 20


async def setup() -> tuple[AccessUseCases, FakeUnitOfWorkFactory, str]:
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    client, _ = await ClientUseCases(factory, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(30)))
    )
    return AccessUseCases(factory, clock, FakeKeyHasher(), BOOTSTRAP), factory, client.id


async def test_staff_token_secret_is_shown_once_and_stored_as_a_digest() -> None:
    access, factory, _ = await setup()

    issued = await access.create_staff_token("Ada", Role.VIEWER)

    assert issued.secret.startswith("bzs_")
    assert issued.token.prefix == issued.secret[:10]
    assert issued.secret not in str(dataclasses.asdict(factory.store))
    assert issued.secret not in repr(issued)
    principal = await access.authenticate(issued.secret)
    assert principal == StaffPrincipal("Ada", Role.VIEWER, issued.token.id)
    assert not principal.can_mutate
    assert principal.can_read_costs


async def test_revoked_unknown_and_malformed_tokens_are_refused_alike() -> None:
    access, _, client_id = await setup()
    staff = await access.create_staff_token("Ada", Role.OWNER)
    portal = await access.create_portal_token(client_id)
    await access.revoke_staff_token(staff.token.id)
    await access.revoke_portal_token(portal.token.id)

    for secret in (staff.secret, portal.secret, "bzs_" + "x" * 40, "", "Bearer", BOOTSTRAP[:-1]):
        with pytest.raises(Unauthenticated):
            await access.authenticate(secret)


async def test_portal_token_sees_one_client_and_no_costs() -> None:
    access, _, client_id = await setup()

    issued = await access.create_portal_token(client_id)
    principal = await access.authenticate(issued.secret)

    assert issued.secret.startswith("bzp_")
    assert principal == PortalPrincipal(client_id=client_id, token_id=issued.token.id)
    assert principal.may_see_client(client_id)
    assert not principal.may_see_client("other")
    assert not principal.can_read_costs
    assert not principal.can_mutate
    with pytest.raises(NotFound):
        await access.create_portal_token("no-such-client")


async def test_bootstrap_token_is_an_owner_and_absent_when_unset() -> None:
    access, factory, _ = await setup()
    assert await access.authenticate(BOOTSTRAP) is BOOTSTRAP_OWNER
    assert BOOTSTRAP_OWNER.can_manage_staff

    without = AccessUseCases(factory, FrozenClock(NOW), FakeKeyHasher(), None)
    with pytest.raises(Unauthenticated):
        await without.authenticate("")


async def test_a_token_needs_a_name_and_a_known_role() -> None:
    access, _, _ = await setup()
    with pytest.raises(ValidationError):
        await access.create_staff_token("  ", Role.ADMIN)
    with pytest.raises(ValueError, match="root"):
        await access.create_staff_token("Ada", "root")  # type: ignore[arg-type]
