"""API keys: found by digest, updated in place, never stored with a secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from adapters.persistence.tables.accounts import api_keys
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import Conflict, NotFound
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0, T0_UTC

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def test_key_round_trips_and_is_found_by_digest(uow: UowFactory) -> None:
    client = builders.client()
    key = builders.key(
        client.id,
        expires_at=T0 + timedelta(days=30),
        allowed_models=("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"),
        rpm_limit=60,
        tpm_limit=100_000,
    )
    other = builders.key(client.id, created_at=T0 + timedelta(seconds=1))
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.keys.add(other)
        await tx.commit()

    async with uow() as tx:
        by_digest = await tx.keys.by_digest(key.digest)
        by_id = await tx.keys.get(key.id)
        listed = await tx.keys.for_client(client.id)
        unknown = await tx.keys.by_digest("0" * 64)

    assert by_digest == key
    assert by_id == key
    assert by_digest is not None
    assert by_digest.allowed_models == ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5")
    assert by_digest.created_at == T0_UTC
    assert by_digest.expires_at == T0_UTC + timedelta(days=30)
    assert by_digest.expires_at is not None
    assert by_digest.expires_at.tzinfo is UTC
    assert [k.id for k in listed] == [key.id, other.id]
    assert unknown is None


async def test_revocation_is_stored(uow: UowFactory) -> None:
    client = builders.client()
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.commit()

    revoked = replace(key.revoked(T0 + timedelta(hours=1)), name="old", allowed_models=("a/b",))
    async with uow() as tx:
        await tx.keys.update(revoked)
        await tx.commit()

    async with uow() as tx:
        stored = await tx.keys.by_digest(key.digest)
    assert stored == revoked
    assert stored is not None
    assert stored.revoked_at == T0_UTC + timedelta(hours=1)
    assert not stored.is_usable_at(T0 + timedelta(hours=2))


async def test_duplicate_digest_is_conflict(uow: UowFactory) -> None:
    client = builders.client()
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.commit()
    async with uow() as tx:
        with pytest.raises(Conflict):
            await tx.keys.add(builders.key(client.id, digest=key.digest))


async def test_unknown_key_update_is_not_found(uow: UowFactory) -> None:
    async with uow() as tx:
        with pytest.raises(NotFound):
            await tx.keys.update(builders.key("ghost"))


def test_no_secret_column() -> None:
    columns = set(api_keys.c.keys())
    assert "digest" in columns
    assert "prefix" in columns
    assert not {"secret", "key", "api_key", "plaintext", "token"} & columns
