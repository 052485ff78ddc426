"""StaffTokenRepository and PortalTokenRepository contracts (revocation included), on the
fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain.access.principals import PortalToken, Role, StaffToken
from domain.errors import Conflict, NotFound
from domain.ids import new_id
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed


def staff(**overrides: Any) -> StaffToken:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": "ops",
        "role": Role.ADMIN,
        "prefix": "bzs_live_AbC",
        "digest": new_id().replace("-", "") * 2,
        "created_at": T0,
        "email": "ops@agency.test",
    }
    return StaffToken(**(values | overrides))


def portal(client_id: str, **overrides: Any) -> PortalToken:
    values: dict[str, Any] = {
        "id": new_id(),
        "client_id": client_id,
        "name": "portal",
        "prefix": "bzp_live_AbC",
        "digest": new_id().replace("-", "") * 2,
        "created_at": T0,
    }
    return PortalToken(**(values | overrides))


async def test_a_staff_token_is_found_by_id_and_digest(store: UnitOfWorkFactory) -> None:
    token = staff()
    async with store() as uow:
        await uow.staff_tokens.add(token)
        await uow.commit()
    async with store() as uow:
        assert await uow.staff_tokens.get(token.id) == token
        assert await uow.staff_tokens.by_digest(token.digest) == token
        assert await uow.staff_tokens.get(new_id()) is None
        assert await uow.staff_tokens.by_digest("0" * 64) is None


@pytest.mark.parametrize("same", ["id", "digest"])
async def test_a_second_staff_token_with_the_same_id_or_digest_is_a_conflict(
    store: UnitOfWorkFactory, same: str
) -> None:
    first = staff()
    async with store() as uow:
        await uow.staff_tokens.add(first)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(Conflict):
            await uow.staff_tokens.add(staff(**{same: getattr(first, same)}))


async def test_staff_tokens_are_listed_oldest_first(store: UnitOfWorkFactory) -> None:
    newer, older = staff(created_at=T0 + timedelta(hours=1)), staff(created_at=T0)
    tied = [staff(id=i, created_at=T0) for i in ("s-b", "s-a")]
    async with store() as uow:
        for token in (newer, *tied, older):
            await uow.staff_tokens.add(token)
        listed = [t.id for t in await uow.staff_tokens.list()]
    assert listed == [*sorted([older.id, "s-a", "s-b"]), newer.id]


async def test_a_staff_token_update_changes_name_role_and_revocation_only(
    store: UnitOfWorkFactory,
) -> None:
    token = staff()
    async with store() as uow:
        await uow.staff_tokens.add(token)
        revoked = replace(token, name="gone", role=Role.VIEWER, revoked_at=T0 + timedelta(days=1))
        await uow.staff_tokens.update(
            replace(revoked, digest="f" * 64, prefix="other", created_at=T0 + timedelta(days=9))
        )
        await uow.commit()
    async with store() as uow:
        stored = await uow.staff_tokens.get(token.id)
        assert stored == revoked
        assert stored is not None
        assert not stored.is_active
        with pytest.raises(NotFound):
            await uow.staff_tokens.update(staff())


async def test_portal_tokens_belong_to_a_known_client(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.portal_tokens.add(portal(new_id()))


@pytest.mark.parametrize("same", ["id", "digest"])
async def test_a_second_portal_token_with_the_same_id_or_digest_is_a_conflict(
    store: UnitOfWorkFactory, same: str
) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        first = portal(owner.id)
        await uow.portal_tokens.add(first)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(Conflict):
            await uow.portal_tokens.add(portal(owner.id, **{same: getattr(first, same)}))


async def test_portal_tokens_are_listed_per_client_oldest_first_and_revoked_in_place(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        mine, theirs = await seed.client(uow), await seed.client(uow)
        newer = portal(mine.id, created_at=T0 + timedelta(hours=1))
        older = portal(mine.id, created_at=T0)
        other = portal(theirs.id)
        for token in (newer, older, other):
            await uow.portal_tokens.add(token)
        await uow.commit()
    revoked = replace(older, name="old", revoked_at=T0 + timedelta(days=1))
    async with store() as uow:
        assert list(await uow.portal_tokens.for_client(mine.id)) == [older, newer]
        await uow.portal_tokens.update(replace(revoked, client_id=theirs.id, digest="f" * 64))
        await uow.commit()
    async with store() as uow:
        assert await uow.portal_tokens.by_digest(older.digest) == revoked
        assert list(await uow.portal_tokens.for_client(theirs.id)) == [other]
        with pytest.raises(NotFound):
            await uow.portal_tokens.update(portal(mine.id))
