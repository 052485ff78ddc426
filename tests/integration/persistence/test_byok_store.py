"""The BYOK store on SQLite and PostgreSQL: credentials kept as ciphertext only, replaced per
client, provider and models, removed with the ciphertext wiped; settings upserted; every change
bumps the configuration revision; rotation re-encrypts everything in one transaction, and the
old ciphertext no longer opens under the new key alone; a BYOK usage record round-trips."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.byok.cipher import AesGcmCipher
from adapters.persistence.byok import SqlByokStore
from adapters.persistence.reconciliation import SqlReconciliationStore
from adapters.persistence.revision import SqlConfigRevision
from adapters.persistence.tables.byok import byok_credentials
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.money import Money
from domain.byok.credentials import BudgetBasis, ByokSettings, CredentialInput, OnRevoke
from domain.byok.errors import CredentialUnreadable
from domain.byok.fees import ByokFee, FeeKind
from domain.usecases.byok import ByokUseCases, context_of
from tests.fakes import FrozenClock
from tests.integration.persistence import builders

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
OLD_SECRET = "old-server-secret-" + "a" * 32
NEW_SECRET = "new-server-secret-" + "b" * 32
KEY = "sk-client-secret-key-7777"


class Accepting:
    def __init__(self) -> None:
        self.checked: list[str] = []

    async def verify(self, credential: CredentialInput) -> None:
        self.checked.append(credential.provider)


async def a_client(uow: UowFactory) -> str:
    client = builders.client()
    async with uow() as unit:
        await unit.clients.add(client)
        await unit.commit()
    return client.id


def use_cases(engine: AsyncEngine, secret: str, older: tuple[str, ...] = ()) -> ByokUseCases:
    return ByokUseCases(
        SqlByokStore(engine), AesGcmCipher(secret, older), Accepting(), FrozenClock(NOW)
    )


async def test_credentials_are_stored_encrypted_and_shown_masked(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    client_id = await a_client(uow)
    byok = use_cases(engine, OLD_SECRET)
    revision = SqlConfigRevision(engine)
    before = await revision.current()

    masked = await byok.set_credential(
        CredentialInput(client_id, "openai", KEY, organization="org-1", models=("openai/gpt-4o",))
    )

    assert await revision.current() > before
    assert masked.last4 == "7777"
    assert masked.models == ("openai/gpt-4o",)
    async with engine.connect() as conn:
        [row] = (await conn.execute(select(byok_credentials))).mappings().all()
    assert KEY.encode() not in bytes(row["ciphertext"])
    assert KEY not in str(dict(row))
    config = await byok.configuration()
    upstream = config[client_id].credential_for("openai/gpt-4o", "openai")
    assert upstream is not None
    assert upstream.api_key == KEY
    assert KEY not in repr(upstream)
    assert config[client_id].credential_for("openai/gpt-4o-mini", "openai") is None


async def test_a_new_credential_replaces_the_same_scope_and_removal_wipes_it(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    client_id = await a_client(uow)
    byok = use_cases(engine, OLD_SECRET)
    first = await byok.set_credential(CredentialInput(client_id, "openai", KEY))
    second = await byok.set_credential(CredentialInput(client_id, "openai", KEY + "8"))

    listed = await byok.credentials(client_id)
    active = {c.id: c.revoked_at is None for c in listed}
    assert active == {first.id: False, second.id: True}
    removed = await byok.remove_credential(client_id, second.id)
    assert removed.revoked_at == NOW
    async with engine.connect() as conn:
        rows = (await conn.execute(select(byok_credentials))).mappings().all()
    assert all(bytes(r["ciphertext"]) == b"" for r in rows)
    config = (await byok.configuration())[client_id]
    assert config.credential_for("openai/gpt-4o", "openai") is None
    assert config.revoked_for("openai/gpt-4o", "openai")


async def test_settings_are_upserted(engine: AsyncEngine, uow: UowFactory) -> None:
    client_id = await a_client(uow)
    byok = use_cases(engine, OLD_SECRET)
    assert await byok.settings(client_id) == ByokSettings(client_id)
    chosen = ByokSettings(
        client_id,
        ByokFee(FeeKind.PER_MILLION_TOKENS, Decimal("1.25")),
        BudgetBasis.LIST_COST,
        fallback_to_agency=True,
        on_revoke=OnRevoke.REFUSE,
    )
    await byok.set_settings(chosen)
    await byok.set_settings(chosen)
    assert await byok.settings(client_id) == chosen


async def test_rotation_reencrypts_under_the_new_key(engine: AsyncEngine, uow: UowFactory) -> None:
    client_id = await a_client(uow)
    masked = await use_cases(engine, OLD_SECRET).set_credential(
        CredentialInput(client_id, "anthropic", KEY)
    )
    async with engine.connect() as conn:
        [before] = (await conn.execute(select(byok_credentials))).mappings().all()

    assert await use_cases(engine, NEW_SECRET, (OLD_SECRET,)).rotate() == 1

    async with engine.connect() as conn:
        [after] = (await conn.execute(select(byok_credentials))).mappings().all()
    new_only = AesGcmCipher(NEW_SECRET)
    assert after["key_id"] == new_only.key_id != before["key_id"]
    context = context_of(masked.id, client_id)
    assert new_only.decrypt(bytes(after["ciphertext"]), after["key_id"], context) == KEY
    with pytest.raises(CredentialUnreadable):
        new_only.decrypt(bytes(before["ciphertext"]), before["key_id"], context)
    with pytest.raises(CredentialUnreadable):  # the old row's bytes under the new key's id
        new_only.decrypt(bytes(before["ciphertext"]), new_only.key_id, context)
    config = await use_cases(engine, NEW_SECRET).configuration()
    upstream = config[client_id].credential_for("anthropic/claude", "anthropic")
    assert upstream is not None
    assert upstream.api_key == KEY


async def test_a_rotation_without_the_old_secret_changes_nothing(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    client_id = await a_client(uow)
    await use_cases(engine, OLD_SECRET).set_credential(CredentialInput(client_id, "openai", KEY))

    with pytest.raises(CredentialUnreadable):
        await use_cases(engine, NEW_SECRET).rotate()

    config = await use_cases(engine, OLD_SECRET).configuration()
    assert config[client_id].credential_for("openai/x", "openai") is not None


async def test_a_byok_usage_record_round_trips(engine: AsyncEngine, uow: UowFactory) -> None:
    client = builders.client()
    key = builders.key(client.id)
    record = builders.usage(
        client.id,
        key.id,
        cost=Money(Decimal(0)),
        byok=True,
        list_cost=Money(Decimal("0.000123456789")),
    )
    async with uow() as unit:
        await unit.clients.add(client)
        await unit.keys.add(key)
        await unit.usage.add(record)
        await unit.commit()
    async with uow() as unit:
        [stored] = await unit.usage.for_request(record.request_id)
    assert stored.byok
    assert stored.list_cost == Money(Decimal("0.000123456789"))


async def test_last_used_times_are_recorded_without_a_revision_bump(
    engine: AsyncEngine, uow: UowFactory
) -> None:
    client_id = await a_client(uow)
    byok = use_cases(engine, OLD_SECRET)
    masked = await byok.set_credential(CredentialInput(client_id, "openai", KEY))
    revision = SqlConfigRevision(engine)
    before = await revision.current()

    await byok.note_used({masked.id: NOW})

    [listed] = await byok.credentials(client_id)
    assert listed.last_used_at == NOW
    assert await revision.current() == before


async def test_reconciliation_leaves_byok_calls_out(engine: AsyncEngine, uow: UowFactory) -> None:
    """They are on the client's own provider account, never on the agency's reports."""
    client = builders.client()
    key = builders.key(client.id)
    agency = builders.usage(client.id, key.id, started_at=NOW)
    own = builders.usage(
        client.id,
        key.id,
        started_at=NOW,
        cost=Money(Decimal(0)),
        byok=True,
        list_cost=Money(Decimal("0.5")),
    )
    async with uow() as unit:
        await unit.clients.add(client)
        await unit.keys.add(key)
        await unit.usage.add(agency)
        await unit.usage.add(own)
        await unit.commit()

    [figures] = await SqlReconciliationStore(engine).recorded(
        NOW.date(), NOW.date() + timedelta(days=1), None
    )

    assert figures.requests == 1
    assert figures.cost == agency.cost.amount
