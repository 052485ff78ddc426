"""The BYOK store: clients' provider credentials (ciphertext only) and BYOK settings. Every
change bumps the configuration revision in its own transaction, so the hot path's cache of
them (runtime/byok_cache.py) is dropped in every process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.repositories._sql import bump_config_revision, translated_errors
from adapters.persistence.repositories.usage_totals import exact_decimal, summed_amount
from adapters.persistence.tables.byok import byok_credentials, byok_settings
from adapters.persistence.tables.calls import usage_records
from adapters.persistence.unit_of_work import sqlite_writer_lock
from domain.billing.money import Money
from domain.byok.credentials import (
    BudgetBasis,
    ByokSettings,
    ByokUsage,
    OnRevoke,
    StoredCredential,
)
from domain.byok.fees import ByokFee, FeeKind
from domain.byok.ports import ByokStore

_WIPED = b""


def _credential(row: RowMapping) -> StoredCredential:
    return StoredCredential(
        id=row["id"],
        client_id=row["client_id"],
        provider=row["provider"],
        ciphertext=bytes(row["ciphertext"]),
        key_id=row["key_id"],
        last4=row["last4"],
        base_url=row["base_url"],
        organization=row["organization"],
        project=row["project"],
        models=tuple(row["models"].split()),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def _credential_row(c: StoredCredential) -> dict[str, Any]:
    return {
        "id": c.id,
        "client_id": c.client_id,
        "provider": c.provider,
        "ciphertext": c.ciphertext,
        "key_id": c.key_id,
        "last4": c.last4,
        "base_url": c.base_url,
        "organization": c.organization,
        "project": c.project,
        "models": " ".join(c.models),
        "created_at": c.created_at,
        "last_used_at": c.last_used_at,
        "revoked_at": c.revoked_at,
    }


def _settings(row: RowMapping) -> ByokSettings:
    return ByokSettings(
        client_id=row["client_id"],
        fee=ByokFee(FeeKind(row["fee_kind"]), row["fee_amount"]),
        budget_basis=BudgetBasis(row["budget_basis"]),
        fallback_to_agency=bool(row["fallback_to_agency"]),
        on_revoke=OnRevoke(row["on_revoke"]),
    )


class SqlByokStore(ByokStore):
    def __init__(self, engine: AsyncEngine, on_change: Callable[[], None] = lambda: None) -> None:
        """`on_change`: told after each committed change (this process's RevisionWatch)."""
        self._engine = engine
        self._on_change = on_change

    @asynccontextmanager
    async def _writing(self, *, config: bool = True) -> AsyncIterator[AsyncConnection]:
        lock = sqlite_writer_lock(self._engine)
        if lock is None:
            async with self._engine.begin() as conn:
                yield conn
                if config:
                    await bump_config_revision(conn)
        else:
            async with lock, self._engine.begin() as conn:
                yield conn
                if config:
                    await bump_config_revision(conn)
        if config:
            self._on_change()

    async def credentials(self, client_id: str | None = None) -> Sequence[StoredCredential]:
        column = byok_credentials.c
        statement = select(byok_credentials).order_by(column.created_at, column.id)
        if client_id is not None:
            statement = statement.where(column.client_id == client_id)
        async with self._engine.connect() as conn:
            return [_credential(row) for row in (await conn.execute(statement)).mappings()]

    async def add_credential(self, credential: StoredCredential) -> None:
        column = byok_credentials.c
        async with translated_errors("BYOK credential"), self._writing() as conn:
            await conn.execute(
                update(byok_credentials)
                .where(
                    column.client_id == credential.client_id,
                    column.provider == credential.provider,
                    column.models == " ".join(credential.models),
                    column.revoked_at.is_(None),
                )
                .values(revoked_at=credential.created_at, ciphertext=_WIPED)
            )
            await conn.execute(byok_credentials.insert().values(_credential_row(credential)))

    async def revoke_credential(self, client_id: str, credential_id: str, at: datetime) -> bool:
        column = byok_credentials.c
        async with self._writing() as conn:
            result = await conn.execute(
                update(byok_credentials)
                .where(
                    column.id == credential_id,
                    column.client_id == client_id,
                    column.revoked_at.is_(None),
                )
                .values(revoked_at=at, ciphertext=_WIPED)
            )
            return bool(result.rowcount)

    async def settings(self, client_id: str | None = None) -> Sequence[ByokSettings]:
        statement = select(byok_settings).order_by(byok_settings.c.client_id)
        if client_id is not None:
            statement = statement.where(byok_settings.c.client_id == client_id)
        async with self._engine.connect() as conn:
            return [_settings(row) for row in (await conn.execute(statement)).mappings()]

    async def put_settings(self, settings: ByokSettings) -> None:
        values = {
            "fee_kind": settings.fee.kind.value,
            "fee_amount": settings.fee.amount,
            "budget_basis": settings.budget_basis.value,
            "fallback_to_agency": settings.fallback_to_agency,
            "on_revoke": settings.on_revoke.value,
        }
        column = byok_settings.c
        async with translated_errors("BYOK settings"), self._writing() as conn:
            result = await conn.execute(
                update(byok_settings).where(column.client_id == settings.client_id).values(values)
            )
            if not result.rowcount:
                await conn.execute(
                    byok_settings.insert().values(client_id=settings.client_id, **values)
                )

    async def touch(self, used: dict[str, datetime]) -> None:
        if not used:
            return
        column = byok_credentials.c
        async with self._writing(config=False) as conn:
            for credential_id, at in sorted(used.items()):
                await conn.execute(
                    update(byok_credentials)
                    .where(column.id == credential_id)
                    .values(last_used_at=at)
                )

    async def usage(self, client_id: str, start: datetime, end: datetime) -> Sequence[ByokUsage]:
        column = usage_records.c
        async with self._engine.connect() as conn:
            dialect = conn.dialect.name
            statement = (
                select(
                    column.model_id,
                    column.cost_currency,
                    column.charge_currency,
                    func.count().label("requests"),
                    func.sum(column.input_tokens).label("input_tokens"),
                    func.sum(column.output_tokens).label("output_tokens"),
                    summed_amount(dialect, "list_cost"),
                    summed_amount(dialect, "charge"),
                )
                .where(
                    column.client_id == client_id,
                    column.byok.is_(True),
                    column.started_at >= start,
                    column.started_at < end,
                )
                .group_by(column.model_id, column.cost_currency, column.charge_currency)
                .order_by(column.model_id, column.cost_currency, column.charge_currency)
            )
            rows = (await conn.execute(statement)).mappings().all()
        return [
            ByokUsage(
                client_id=client_id,
                model_id=row["model_id"],
                requests=int(row["requests"]),
                input_tokens=int(row["input_tokens"] or 0),
                output_tokens=int(row["output_tokens"] or 0),
                list_cost=Money(exact_decimal(row["list_cost"] or 0), row["cost_currency"]),
                fee=Money(exact_decimal(row["charge"] or 0), row["charge_currency"]),
            )
            for row in rows
        ]

    async def rekey(self, reencrypt: Callable[[StoredCredential], bytes], key_id: str) -> int:
        column = byok_credentials.c
        async with self._writing() as conn:
            rows = await conn.execute(
                select(byok_credentials).where(column.revoked_at.is_(None)).order_by(column.id)
            )
            stored = [_credential(row) for row in rows.mappings()]
            for credential in stored:  # all or nothing: one failure rolls every row back
                await conn.execute(
                    update(byok_credentials)
                    .where(column.id == credential.id)
                    .values(ciphertext=reencrypt(credential), key_id=key_id)
                )
            return len(stored)
