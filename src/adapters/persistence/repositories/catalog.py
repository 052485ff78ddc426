"""The model catalog and its effective-dated price versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import (
    bump_config_revision,
    insert_unless_exists,
    upsert,
)
from adapters.persistence.tables.catalog import model_aliases, models, price_versions
from domain.catalog.aliases import ModelAlias
from domain.catalog.models import Model, ModelKind, PriceHistory, PriceVersion
from domain.catalog.ports import CatalogRepository
from domain.errors import Conflict, ValidationError


def model_to_row(model: Model) -> dict[str, Any]:
    return {
        "id": model.id,
        "provider": model.provider,
        "upstream_name": model.upstream_name,
        "kind": model.kind.value,
        "max_output_tokens": model.max_output_tokens,
        "context_window": model.context_window,
        "fallbacks": json.dumps(list(model.fallbacks)),
    }


def model_from_row(row: RowMapping) -> Model:
    return Model(
        id=row["id"],
        provider=row["provider"],
        upstream_name=row["upstream_name"],
        kind=ModelKind(row["kind"]),
        max_output_tokens=row["max_output_tokens"],
        context_window=row["context_window"],
        fallbacks=tuple(json.loads(row["fallbacks"])),
    )


def price_to_row(version: PriceVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "model_id": version.model_id,
        "effective_from": version.effective_from,
        "currency": version.currency,
        "input": version.input,
        "output": version.output,
        "cached_input": version.cached_input,
        "cache_write": version.cache_write,
        "reasoning": version.reasoning,
    }


def price_from_row(row: RowMapping) -> PriceVersion:
    return PriceVersion(
        id=row["id"],
        model_id=row["model_id"],
        effective_from=row["effective_from"],
        currency=row["currency"],
        input=row["input"],
        output=row["output"],
        cached_input=row["cached_input"],
        cache_write=row["cache_write"],
        reasoning=row["reasoning"],
    )


AGENCY_WIDE = ""  # model_aliases.client_id of an alias for every client


def alias_to_row(alias: ModelAlias) -> dict[str, Any]:
    return {
        "client_id": AGENCY_WIDE if alias.client_id is None else alias.client_id,
        "name": alias.name,
        "model_id": alias.model_id,
        "created_at": alias.created_at,
        "updated_at": alias.updated_at,
    }


def alias_from_row(row: RowMapping) -> ModelAlias:
    return ModelAlias(
        name=row["name"],
        model_id=row["model_id"],
        client_id=row["client_id"] or None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAlchemyCatalogRepository(CatalogRepository):
    """Models are upserted by id; price versions are append-only, one per (model, instant)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def save_model(self, model: Model) -> None:
        await upsert(self._conn, models, model_to_row(model), ["id"])
        await bump_config_revision(self._conn)

    async def get_model(self, model_id: str) -> Model | None:
        result = await self._conn.execute(select(models).where(models.c.id == model_id))
        row = result.mappings().first()
        return None if row is None else model_from_row(row)

    async def models(self) -> Sequence[Model]:
        result = await self._conn.execute(select(models).order_by(models.c.id))
        return [model_from_row(row) for row in result.mappings()]

    async def add_price(self, version: PriceVersion) -> None:
        """Usage records reference the version's id, so it must be set (the use case does)."""
        if not version.id:
            raise ValidationError("a price version needs an id before it is stored")
        row = price_to_row(version)
        if not await insert_unless_exists(
            self._conn, price_versions, row, ["model_id", "effective_from"]
        ):
            raise Conflict(
                f"{version.model_id} already has a price from {version.effective_from.isoformat()}"
            )
        await bump_config_revision(self._conn)

    async def prices(self, model_id: str) -> PriceHistory:
        statement = (
            select(price_versions)
            .where(price_versions.c.model_id == model_id)
            .order_by(price_versions.c.effective_from)
        )
        result = await self._conn.execute(statement)
        return PriceHistory(model_id, [price_from_row(row) for row in result.mappings()])

    async def save_alias(self, alias: ModelAlias) -> None:
        await upsert(self._conn, model_aliases, alias_to_row(alias), ["client_id", "name"])
        await bump_config_revision(self._conn)

    async def remove_alias(self, client_id: str | None, name: str) -> bool:
        owner = AGENCY_WIDE if client_id is None else client_id
        statement = delete(model_aliases).where(
            model_aliases.c.client_id == owner, model_aliases.c.name == name
        )
        removed = (await self._conn.execute(statement)).rowcount == 1
        if removed:
            await bump_config_revision(self._conn)
        return removed

    async def aliases(self) -> Sequence[ModelAlias]:
        statement = select(model_aliases).order_by(model_aliases.c.client_id, model_aliases.c.name)
        result = await self._conn.execute(statement)
        return [alias_from_row(row) for row in result.mappings()]
