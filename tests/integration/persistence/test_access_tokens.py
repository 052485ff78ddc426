"""Staff and portal tokens: found by digest, revocation stored, never a secret in a row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.access.principals import PortalToken, Role, StaffToken
from domain.errors import Conflict, NotFound
from domain.ids import new_id
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0, T0_UTC

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def staff(**overrides: object) -> StaffToken:
    values: dict[str, object] = {
        "id": new_id(),
        "name": "Ada",
        "role": Role.ADMIN,
        "prefix": "bzs_AbC123",
        "digest": new_id().replace("-", "") * 2,
        "created_at": T0,
    }
    return StaffToken(**(values | overrides))  # type: ignore[arg-type]


def portal(client_id: str, **overrides: object) -> PortalToken:
    values: dict[str, object] = {
        "id": new_id(),
        "client_id": client_id,
        "name": "portal",
        "prefix": "bzp_AbC123",
        "digest": new_id().replace("-", "") * 2,
        "created_at": T0,
    }
    return PortalToken(**(values | overrides))  # type: ignore[arg-type]


async def test_staff_tokens_round_trip_by_digest_and_list_in_order(uow: UowFactory) -> None:
    first = staff(role=Role.OWNER, email="ada@agency.example")
    second = staff(name="Bob", role=Role.VIEWER, created_at=T0 + timedelta(seconds=1))
    async with uow() as tx:
        await tx.staff_tokens.add(second)
        await tx.staff_tokens.add(first)
        await tx.commit()

    async with uow() as tx:
        by_digest = await tx.staff_tokens.by_digest(second.digest)
        by_id = await tx.staff_tokens.get(first.id)
        listed = await tx.staff_tokens.list()
        unknown = await tx.staff_tokens.by_digest("0" * 64)

    assert by_digest == second
    assert by_digest is not None
    assert by_digest.role is Role.VIEWER
    assert by_id == first
    assert by_id is not None
    assert by_id.email == "ada@agency.example"
    assert by_id.created_at == T0_UTC
    assert by_id.created_at.tzinfo is UTC
    assert [t.id for t in listed] == [first.id, second.id]
    assert unknown is None


async def test_staff_token_revocation_is_stored_and_duplicates_conflict(uow: UowFactory) -> None:
    token = staff()
    async with uow() as tx:
        await tx.staff_tokens.add(token)
        await tx.commit()
    async with uow() as tx:
        await tx.staff_tokens.update(token.revoked(T0 + timedelta(hours=1)))
        await tx.commit()
    async with uow() as tx:
        stored = await tx.staff_tokens.get(token.id)
    assert stored is not None
    assert stored.revoked_at == T0_UTC + timedelta(hours=1)

    with pytest.raises(Conflict):
        async with uow() as tx:
            await tx.staff_tokens.add(staff(digest=token.digest))
    with pytest.raises(NotFound):
        async with uow() as tx:
            await tx.staff_tokens.update(staff())


async def test_portal_tokens_belong_to_an_existing_client(uow: UowFactory) -> None:
    client, other = builders.client(), builders.client()
    token = portal(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.clients.add(other)
        await tx.portal_tokens.add(token)
        await tx.portal_tokens.add(portal(other.id))
        await tx.commit()
    async with uow() as tx:
        await tx.portal_tokens.update(token.revoked(T0))
        await tx.commit()

    async with uow() as tx:
        found = await tx.portal_tokens.by_digest(token.digest)
        mine = await tx.portal_tokens.for_client(client.id)

    assert found is not None
    assert found.client_id == client.id
    assert found.revoked_at == T0_UTC
    assert [t.id for t in mine] == [token.id]
    with pytest.raises(NotFound):
        async with uow() as tx:
            await tx.portal_tokens.add(portal("no-such-client"))
