"""Ports for the catalog: the store of models and their versioned prices (and aliases)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.catalog.aliases import ModelAlias
from domain.catalog.models import Model, PriceHistory, PriceVersion


class CatalogRepository(Protocol):
    async def save_model(self, model: Model) -> None:
        """Insert the model, or replace its settings when the id exists."""
        ...

    async def get_model(self, model_id: str) -> Model | None: ...
    async def models(self) -> Sequence[Model]: ...
    async def add_price(self, version: PriceVersion) -> None:
        """Add a price version; a second version at the same instant is a Conflict."""
        ...

    async def prices(self, model_id: str) -> PriceHistory: ...
    async def save_alias(self, alias: ModelAlias) -> None:
        """Insert the alias, or retarget it when (client_id, name) exists."""
        ...

    async def remove_alias(self, client_id: str | None, name: str) -> bool:
        """Delete the alias; False when there was none."""
        ...

    async def aliases(self) -> Sequence[ModelAlias]:
        """Every alias, agency-wide ones first, then by client and name."""
        ...
