"""Models and their price versions (`ports.CatalogRepository`)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.catalog.aliases import ModelAlias
from domain.catalog.models import Model, PriceHistory, PriceVersion
from domain.errors import Conflict, NotFound, ValidationError
from tests.fakes.store import Repository


class FakeCatalogRepository(Repository):
    async def save_model(self, model: Model) -> None:
        self._data.models[model.id] = model

    async def get_model(self, model_id: str) -> Model | None:
        return self._data.models.get(model_id)

    async def models(self) -> Sequence[Model]:
        return sorted(self._data.models.values(), key=lambda m: m.id)

    async def add_price(self, version: PriceVersion) -> None:
        if not version.id:  # usage records reference it, so the SQL store needs one too
            raise ValidationError("a price version needs an id before it is stored")
        known = version.model_id in self._data.models
        self._require("model", known, version.model_id)
        versions = self._data.prices.setdefault(version.model_id, [])
        if any(v.effective_from == version.effective_from for v in versions):
            raise Conflict(f"{version.model_id} already has a price from {version.effective_from}")
        versions.append(version)

    async def prices(self, model_id: str) -> PriceHistory:
        return PriceHistory(model_id, list(self._data.prices.get(model_id, [])))

    async def save_alias(self, alias: ModelAlias) -> None:
        if alias.model_id not in self._data.models:
            raise NotFound(f"model_aliases: no model {alias.model_id}")
        self._data.aliases[alias.key] = alias

    async def remove_alias(self, client_id: str | None, name: str) -> bool:
        return self._data.aliases.pop((client_id, name), None) is not None

    async def aliases(self) -> Sequence[ModelAlias]:
        return sorted(self._data.aliases.values(), key=lambda a: (a.client_id or "", a.name))
