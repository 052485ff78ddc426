"""ApiKeyRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import Conflict, NotFound
from domain.ids import new_id
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed


async def test_a_key_is_found_by_id_and_by_digest(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        added = await seed.key(
            uow, owner.id, allowed_models=("openai/gpt-4o-mini",), rpm_limit=60, tpm_limit=1000
        )
        await uow.commit()
    async with store() as uow:
        assert await uow.keys.get(added.id) == added
        assert await uow.keys.by_digest(added.digest) == added
        assert await uow.keys.get(new_id()) is None
        assert await uow.keys.by_digest("0" * 64) is None


async def test_a_second_key_with_the_same_id_is_a_conflict(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        first = await seed.key(uow, owner.id)
        with pytest.raises(Conflict):
            await seed.key(uow, owner.id, id=first.id)


async def test_a_second_key_with_the_same_digest_is_a_conflict(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        first = await seed.key(uow, owner.id)
        await uow.commit()
    async with store() as uow:
        with pytest.raises(Conflict):
            await seed.key(uow, owner.id, digest=first.digest)


async def test_a_key_of_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await seed.key(uow, new_id())


async def test_keys_are_listed_per_client_oldest_first(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        mine, theirs, idle = [await seed.client(uow) for _ in range(3)]
        newer = await seed.key(uow, mine.id, created_at=T0 + timedelta(hours=1))
        older = await seed.key(uow, mine.id, created_at=T0)
        tied = [await seed.key(uow, mine.id, id=i, created_at=T0) for i in ("k-b", "k-a")]
        other = await seed.key(uow, theirs.id, created_at=T0 + timedelta(minutes=1))
        await uow.commit()
    async with store() as uow:
        oldest_first = [*sorted([older.id, "k-a", "k-b"]), newer.id]
        assert [k.id for k in await uow.keys.for_client(mine.id)] == oldest_first
        assert await uow.keys.for_client(idle.id) == []
        both = [k.id for k in await uow.keys.for_clients([mine.id, theirs.id])]
        assert both == [*sorted([older.id, "k-a", "k-b"]), other.id, newer.id]
        assert await uow.keys.for_clients([]) == []
    assert len(tied) == 2


async def test_update_overwrites_revocation_expiry_name_allow_list_and_limits(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        added = await seed.key(uow, owner.id)
        await uow.commit()
    changed = replace(
        added,
        name="renamed",
        expires_at=T0 + timedelta(days=7),
        revoked_at=T0 + timedelta(days=1),
        allowed_models=("anthropic/claude-sonnet-4-5", "openai/gpt-4o"),
        rpm_limit=5,
        tpm_limit=500,
    )
    async with store() as uow:
        await uow.keys.update(changed)
        await uow.commit()
    async with store() as uow:
        stored = await uow.keys.get(added.id)
        assert stored == changed
        assert stored is not None
        assert not stored.is_usable_at(T0 + timedelta(days=2))


async def test_update_never_changes_the_owner_digest_prefix_or_creation(
    store: UnitOfWorkFactory,
) -> None:
    async with store() as uow:
        owner, other = await seed.client(uow), await seed.client(uow)
        added = await seed.key(uow, owner.id)
        moved = replace(
            added,
            client_id=other.id,
            digest="f" * 64,
            prefix="bzk_live_other",
            created_at=T0 + timedelta(days=1),
        )
        await uow.keys.update(moved)
        assert await uow.keys.get(added.id) == added
        assert await uow.keys.by_digest(added.digest) == added


async def test_updating_an_unknown_key_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.keys.update(builders.key(new_id()))
