"""IdempotencyRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from domain.metering.idempotency import IdempotencyRecord, IdempotencyState
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed


def record(client_id: str, key: str = "k-1", **overrides: Any) -> IdempotencyRecord:
    values: dict[str, Any] = {
        "client_id": client_id,
        "key": key,
        "body_hash": "hash-1",
        "request_id": "r-1",
        "created_at": T0,
    }
    return IdempotencyRecord(**(values | overrides))


async def test_the_first_claim_wins_per_client_and_key(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        mine, theirs = await seed.client(uow), await seed.client(uow)
        first = record(mine.id)
        assert await uow.idempotency.claim(first) is None
        assert await uow.idempotency.claim(record(mine.id, body_hash="hash-2")) == first
        assert await uow.idempotency.claim(record(theirs.id)) is None
        assert await uow.idempotency.claim(record(mine.id, "k-2")) is None
        await uow.commit()
    async with store() as uow:
        assert await uow.idempotency.get(mine.id, "k-1") == first
        assert await uow.idempotency.get(mine.id, "k-unknown") is None


async def test_put_overwrites_and_delete_forgets(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        owner = await seed.client(uow)
        await uow.idempotency.claim(record(owner.id))
        done = record(
            owner.id,
            state=IdempotencyState.COMPLETED,
            status=200,
            response=b'{"ok": true}',
            streamed=True,
        )
        await uow.idempotency.put(done)
        assert await uow.idempotency.get(owner.id, "k-1") == done
        fresh = record(owner.id, "k-new")
        await uow.idempotency.put(fresh)
        assert await uow.idempotency.get(owner.id, "k-new") == fresh
        await uow.idempotency.delete(owner.id, "k-1")
        await uow.idempotency.delete(owner.id, "k-unknown")
        assert await uow.idempotency.get(owner.id, "k-1") is None
        assert await uow.idempotency.get(owner.id, "k-new") == fresh
